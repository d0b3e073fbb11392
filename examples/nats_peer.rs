//! The bare-client peer for `make bench-nats`: the plainest async-nats
//! publish loop (one connection, COUNT messages of SIZE bytes to one
//! subject, then a flush), with the client settings loadrun's publishing
//! connection uses. It shows the ceiling the client itself sets on this
//! machine, so the benchmark can tell loadrun's own cost from the client's.
//! Prints one JSON line like `bench/nats_peer.py`.

use std::time::Instant;

use bytes::Bytes;

fn arg(args: &[String], name: &str, default: &str) -> String {
    let at = args.iter().position(|a| a == name);
    at.and_then(|i| args.get(i + 1)).cloned().unwrap_or_else(|| default.to_string())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let url = arg(&args, "--url", "nats://127.0.0.1:4222");
    let count: u64 = arg(&args, "--count", "1000000").parse()?;
    let size: usize = arg(&args, "--size", "256").parse()?;
    let client = async_nats::ConnectOptions::new()
        .name("loadrun bench peer (async-nats)")
        .client_capacity(8192)
        .skip_subject_validation(true)
        .connect(url.as_str())
        .await?;

    // a spawned task runs on a runtime worker, as loadrun's producers do
    let publisher = client.clone();
    let started = Instant::now();
    tokio::spawn(async move {
        let subject = async_nats::Subject::from("loadrun-bench-rust");
        let payload = Bytes::from(vec![0u8; size]);
        for _ in 0..count {
            publisher.publish(subject.clone(), payload.clone()).await?;
        }
        publisher.flush().await.map_err(|e| e.to_string())?;
        Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    })
    .await?
    .map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    client.drain().await?;

    println!(
        "{{\"client\": \"async-nats\", \"messages\": {count}, \"size\": {size}, \
         \"seconds\": {seconds:.3}, \"rate\": {:.1}}}",
        count as f64 / seconds
    );
    Ok(())
}
