//! NetworkPolicy semantics → normalized IR → nftables ruleset; atomic apply and incremental
//! update.
//!
//! Not built yet: see issue 6.
