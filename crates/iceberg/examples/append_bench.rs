//! Times `Warehouse::append` alone: reads a Parquet file into memory (not
//! timed), creates TABLE in the catalog folder DIR with the file's schema,
//! appends every row as one snapshot, and prints `SECONDS ROWS`.
//!
//!   cargo run --release -p tidemark-iceberg --example append_bench -- DIR FILE TABLE [KEY]

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;
use tidemark_iceberg::{TableRef, Warehouse};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        return Err("usage: append_bench DIR FILE TABLE [KEY]".into());
    }
    let file = std::fs::File::open(&args[1])?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
        .with_batch_size(64 * 1024)
        .build()?;
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let schema = batches.first().ok_or("the file has no rows")?.schema();
    let wh = Warehouse::open(Path::new(&args[0])).await?;
    let table = TableRef::parse(&args[2])?;
    let key: Vec<String> = args.get(3).into_iter().cloned().collect();
    wh.create_table(&table, &schema, &key).await?;
    let clock = Instant::now();
    wh.append(&table, &batches, HashMap::new()).await?;
    println!("{:.3} {rows}", clock.elapsed().as_secs_f64());
    Ok(())
}
