//! Self-tests of the netns harness (need root).

use std::net::IpAddr;
use std::time::Duration;

use interop_tests::cleanup::list_namespaces;
use interop_tests::{Host, Switch, Veth, wait_until};
use ipnetwork::IpNetwork;

fn net(text: &str) -> IpNetwork {
    text.parse().expect("test address")
}

fn addr(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

#[test]
fn three_hosts_on_a_switch_ping_each_other_and_leave_nothing_behind() {
    let names;
    {
        let switch = Switch::new("sw").expect("switch");
        let hosts: Vec<Host> = (1..=3)
            .map(|i| {
                let host = Host::new(&format!("h{i}")).expect("host");
                switch
                    .connect_with_addresses(
                        &host,
                        &[
                            net(&format!("198.18.1.{i}/24")),
                            net(&format!("2001:db8:1::{i}/64")),
                        ],
                    )
                    .expect("connect");
                host
            })
            .collect();
        names = hosts
            .iter()
            .map(|h| h.name().to_string())
            .chain([switch.host().name().to_string()])
            .collect::<Vec<_>>();
        for name in &names {
            assert!(list_namespaces().contains(name), "{name} exists");
        }
        for (i, host) in hosts.iter().enumerate() {
            for j in 1..=3 {
                if j == i + 1 {
                    continue;
                }
                for target in [format!("198.18.1.{j}"), format!("2001:db8:1::{j}")] {
                    wait_until(
                        &format!("{} pings {target}", host.label()),
                        Duration::from_secs(10),
                        || host.ping(addr(&target)).map(Some),
                    )
                    .expect("ping");
                }
            }
        }
    }
    let left = list_namespaces();
    for name in &names {
        assert!(!left.contains(name), "{name} was not deleted");
    }
}

#[test]
fn veth_link_down_stops_traffic_and_up_restores_it() {
    let a = Host::new("a").expect("host");
    let b = Host::new("b").expect("host");
    let veth = Veth::with_addresses(
        &a,
        &[net("198.18.2.1/30"), net("2001:db8:2::1/64")],
        &b,
        &[net("198.18.2.2/30"), net("2001:db8:2::2/64")],
    )
    .expect("veth");
    a.ping(addr("198.18.2.2")).expect("ping v4");
    a.ping(addr("2001:db8:2::2")).expect("ping v6");
    veth.set_up(false).expect("down");
    assert!(a.ping(addr("198.18.2.2")).is_err(), "ping over a down link");
    veth.set_up(true).expect("up");
    wait_until("ping after link up", Duration::from_secs(10), || {
        a.ping(addr("198.18.2.2")).map(Some)
    })
    .expect("ping after up");
}

#[test]
fn routed_hosts_reach_each_other_through_a_router() {
    let left = Host::new("left").expect("host");
    let router = Host::new("router").expect("host");
    let right = Host::new("right").expect("host");
    router.enable_forwarding().expect("forwarding");
    assert_eq!(router.sysctl("net.ipv4.ip_forward").expect("read"), "1");
    Veth::with_addresses(
        &left,
        &[net("198.18.3.1/30")],
        &router,
        &[net("198.18.3.2/30")],
    )
    .expect("veth");
    Veth::with_addresses(
        &router,
        &[net("198.18.3.5/30")],
        &right,
        &[net("198.18.3.6/30")],
    )
    .expect("veth");
    left.add_route(net("198.18.3.4/30"), addr("198.18.3.2"))
        .expect("route");
    right
        .add_route(net("198.18.3.0/30"), addr("198.18.3.5"))
        .expect("route");
    left.ping(addr("198.18.3.6")).expect("routed ping");
}

#[test]
fn command_errors_carry_stderr_and_processes_die_with_their_host() {
    let host = Host::new("cmd").expect("host");
    let error = host
        .exec("ip", &["link", "set", "nosuchif", "up"])
        .expect_err("must fail")
        .to_string();
    assert!(error.contains("nosuchif"), "{error}");
    assert!(error.contains(host.name()), "{error}");

    let process = host.spawn("sleeper", "sleep", &["300"]).expect("spawn");
    let pid = process.pid();
    assert!(process.is_running());
    process.freeze().expect("freeze");
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    assert!(state.contains(") T "), "stopped: {state}");
    process.thaw().expect("thaw");
    drop(host);
    wait_until(
        "sleeper killed by host drop",
        Duration::from_secs(5),
        || Ok::<_, String>((!process.is_running()).then_some(())),
    )
    .expect("process gone");
}

#[test]
fn wait_until_timeout_reports_what_and_last_observation() {
    let host = Host::new("wait").expect("host");
    let error = wait_until("198.18.9.9 to answer", Duration::from_millis(300), || {
        host.ping(addr("198.18.9.9")).map(Some)
    })
    .expect_err("nothing answers")
    .to_string();
    assert!(
        error.contains("waiting for 198.18.9.9 to answer"),
        "{error}"
    );
    assert!(
        error.contains("ping"),
        "last observation names the ping: {error}"
    );
}

#[test]
fn stale_namespaces_and_daemons_of_dead_runs_are_removed() {
    // A pid that is certainly dead: a child we started and reaped.
    let mut child = std::process::Command::new("true").spawn().expect("true");
    child.wait().expect("wait");
    let dead = child.id();
    let stale = format!("tern-{dead}-0-stale");
    interop_tests::command::ip(&["netns", "add", &stale]).expect("add stale netns");
    // A "daemon" inside it, as an aborted run would leave behind.
    let mut daemon = std::process::Command::new("ip")
        .args(["netns", "exec", &stale, "sleep", "300"])
        .spawn()
        .expect("spawn stale daemon");
    wait_until(
        "stale daemon inside the netns",
        Duration::from_secs(5),
        || {
            Ok::<_, String>(
                (!interop_tests::cleanup::namespace_pids(&stale).is_empty()).then_some(()),
            )
        },
    )
    .expect("daemon running");
    let report = interop_tests::cleanup::cleanup_stale();
    assert!(report.namespaces.contains(&stale), "{report:?}");
    assert!(!list_namespaces().contains(&stale));
    let status = daemon.wait().expect("reap");
    assert!(!status.success(), "daemon was killed: {status}");
}

#[test]
fn neighbor_table_limits_are_only_raised() {
    interop_tests::raise_neighbor_table_limits(1024, 2048, 4096).expect("raise");
    let read = |name: &str| -> u32 {
        std::fs::read_to_string(format!("/proc/sys/net/ipv4/neigh/default/{name}"))
            .expect("read")
            .trim()
            .parse()
            .expect("number")
    };
    assert!(read("gc_thresh1") >= 1024);
    assert!(read("gc_thresh2") >= 2048);
    let before = read("gc_thresh3");
    assert!(before >= 4096);
    // Asking for less never lowers.
    interop_tests::raise_neighbor_table_limits(1, 1, 1).expect("no-op");
    assert_eq!(read("gc_thresh3"), before);
}
