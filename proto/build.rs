//! Generates the tonic/prost code from `proto/tern/v1/*.proto` with a vendored `protoc`, so
//! building needs no system protoc.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;
    // SAFETY: build scripts are single-threaded; prost-build reads PROTOC from the environment.
    unsafe { std::env::set_var("PROTOC", protoc) };
    let files = [
        "proto/tern/v1/node.proto",
        "proto/tern/v1/resources.proto",
        "proto/tern/v1/dataplane.proto",
        "proto/tern/v1/policy.proto",
    ];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let include = include.to_str().ok_or("protoc include path is not UTF-8")?;
    tonic_prost_build::configure().compile_protos(&files, &["proto", include])?;
    Ok(())
}
