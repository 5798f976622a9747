//! The route programmer: keeps the kernel's main table true to what BGP selected.
//!
//! ```text
//!  bgp::Speaker ─ best + multipath ─┐
//!                                    ├─▶ DesiredInputs ─▶ desired ─┐
//!  NodeIntent ─ pod CIDRs, own ─────┘     (RouteVia hook)          ├─▶ plan ─▶ RouteSocket (batched)
//!  kernel ─ dump / route events ─────────────────────────▶ actual ─┘
//! ```
//!
//! Contract:
//! - Every route tern installs is in table main with protocol [`RTPROT_TERN`] (201, `proto
//!   201` in `ip route`; name it in `/etc/iproute2/rt_protos.d/tern.conf` as `201 tern`).
//!   Reconciliation only ever deletes routes with that protocol; a desired destination held by
//!   another protocol's route at the same metric is replaced, except connected (`proto kernel`)
//!   routes, which are left alone and reported.
//! - Desired: learned prefixes (unicast, ECMP over every selected path), a blackhole per local
//!   pod CIDR, never a unicast route for a prefix this node originates ([`desired`]).
//! - Level-triggered ([`programmer`]): the same plan-and-apply runs at start-up, after every
//!   desired change, after route events from anyone else (a deleted or altered tern route is
//!   put back within milliseconds), and on a periodic resync.
//! - Restart: routes are never flushed, not at start and not on SIGTERM. When ternd starts and
//!   finds tern routes, it keeps them (adding and updating, not deleting) until the speaker's
//!   graceful-restart selection deferral is over, then removes what is no longer desired.
//! - The encapsulation plugs in per destination through [`RouteVia`].

pub mod codec;
pub mod desired;
pub mod diff;
pub mod events;
pub mod kernel;
pub mod programmer;
pub mod route;

pub use desired::{DesiredInputs, LocalRoutes, PlainNextHop, RouteVia, WithLocalRoutes};
pub use diff::{ActualTable, Plan, RouteOp, plan};
pub use kernel::{KernelError, RouteSocket};
pub use programmer::{InstalledRoutes, ProgrammerConfig, ProgrammerHandle, RouteProgrammer};
pub use route::{DesiredRoute, Device, KernelRoute, NextHop, RouteKind};

/// tern's rtnetlink route protocol number (`rtm_protocol`). Unassigned by the kernel's
/// `rtnetlink.h` (0–4, 8–18, 42, 84, 99, 186–192) and outside the range FRR's
/// `rt_protos.d/frr.conf` names (186–197: 196 is FRR's `static`); BIRD uses 12, so none of
/// them mistakes tern's routes for its own.
pub const RTPROT_TERN: u8 = 201;
