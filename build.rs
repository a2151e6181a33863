// The SONAME of the C library: libdpcore.so.<major>.
fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libdpcore.so.{major}");
    println!("cargo:rerun-if-changed=build.rs");
}
