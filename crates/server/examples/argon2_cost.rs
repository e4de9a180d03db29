//! What one password hash costs at the parameters `broadsheet::password` uses: hashes
//! (and verifies) a password ROUNDS times and prints the median, fastest and slowest.
//! `bench/argon2.sh` runs it on a release build.
//!
//!     cargo run --release -p broadsheet --example argon2_cost -- 20

use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let rounds: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 20,
    };
    anyhow::ensure!(rounds > 0, "ROUNDS must be at least 1");
    let password = "correct horse battery staple";
    // One untimed round, so page faults of the first allocation do not count.
    let phc = broadsheet::password::hash(password)?;
    let params = phc.split('$').nth(3).unwrap_or("?").to_owned();

    let mut hashes = Vec::with_capacity(rounds);
    let mut verifies = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let phc = broadsheet::password::hash(password)?;
        hashes.push(start.elapsed());
        let start = Instant::now();
        anyhow::ensure!(
            broadsheet::password::verify(password, &phc),
            "verify failed"
        );
        verifies.push(start.elapsed());
    }
    println!("argon2id {params}, {rounds} rounds");
    report("hash", &mut hashes);
    report("verify", &mut verifies);
    Ok(())
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what:>6}: median {:.1} ms, fastest {:.1} ms, slowest {:.1} ms",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1])
    );
}
