//! The `streamscope` command.

fn main() {}
