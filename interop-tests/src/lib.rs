//! Test hosts in network namespaces and drivers for real BGP peers. Built in the harness work.
