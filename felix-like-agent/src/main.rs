//! `ternd`, the tern node agent. Not built yet: see issue 4.

fn main() -> anyhow::Result<()> {
    anyhow::bail!("ternd: the node agent is not built yet (issue 4)")
}
