//! IPIP encapsulation (RFC 2003): the outer IPv4 header wire view, the kernel tunnel device
//! (`tunl0`) over rtnetlink, and a userspace tunnel for kernels without `ipip.ko`.

pub mod wire;
