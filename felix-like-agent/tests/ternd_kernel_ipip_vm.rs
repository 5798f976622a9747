//! Kernel IPIP for real, driven by ternd: inside a qemu VM booted from Debian's
//! `linux-image-amd64` (which has `ipip.ko`), two namespaces run `ternd --dataplane
//! --ipip-mode kernel` over one file datastore (node-to-node mesh, pool `ipipMode: Always`).
//! Each ternd configures `tunl0` (MTU 1480), learns the other's pod CIDR over BGP and its route
//! programmer installs `OTHER_POD_CIDR via OTHER_NODE dev tunl0 onlink proto 201`; a pod address on each node pings the other's, and the routes stay after SIGTERM.
//!
//! `interop-tests/vm/run.sh -` with `TERN_VM_TERND` runs only that part of
//! `vm/guest-test.sh` (the tern-ipip part is `interop-tests/tests/kernel_ipip_vm.rs`). The VM
//! is TCG (no KVM here) and bounded by `TERN_VM_TIMEOUT`.

use std::path::Path;

const TERND: &str = env!("CARGO_BIN_EXE_ternd");

#[test]
fn ternd_pings_across_kernel_ipip_in_a_vm() {
    let run = interop_tests::vm::run(None, Some(Path::new(TERND)));
    assert!(
        run.passed,
        "ternd kernel IPIP VM test failed ({}):\n{}\n--- console ---\n{}",
        run.status, run.stderr, run.console
    );
    let text = run.console;
    for line in text.lines().filter(|line| line.starts_with("TERN-VM")) {
        eprintln!("{line}");
    }
    eprintln!("{}", run.stderr);
    assert!(text.lines().any(|line| line == "TERN-VM-PASS"));
    for (node, route) in [
        ("E", "198.19.6.0/24 via 198.18.5.2 dev tunl0 onlink"),
        ("F", "198.19.5.0/24 via 198.18.5.1 dev tunl0 onlink"),
    ] {
        assert!(
            text.contains(&format!(
                "TERN-VM: ternd {node}: IPIP device ready mode=Kernel"
            )),
            "{node}: ternd did not use the kernel device"
        );
        assert!(
            text.contains(&format!("TERN-VM: ternd {node}: route {route}")),
            "{node}: route {route} missing"
        );
        assert!(text.contains(&format!("TERN-VM: ternd {node}: mtu 1480")));
    }
    assert!(
        text.contains("TERN-VM: ternd ping: 3 packets transmitted, 3 received, 0% packet loss")
    );
    assert!(text.contains("TERN-VM: ternd: routes stay after SIGTERM"));
}
