//! `ternctl`: see the library's documentation.

fn main() {
    ternctl::main_with_args(std::env::args_os())
}
