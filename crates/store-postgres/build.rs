// `sqlx::migrate!()` embeds the migrations at compile time, but cargo cannot see that
// the macro reads them; without this, a new migration would not trigger a rebuild.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
