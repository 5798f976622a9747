//! `ternctl`, the tern CLI. Not built yet: see issue 7.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("ternctl: not built yet (issue 7)")
}
