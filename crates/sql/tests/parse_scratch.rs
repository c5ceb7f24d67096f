use std::collections::BTreeMap;
use tidemark_model::{ObjectId, State};
use tidemark_sql::parse::{import_ddl, ImportContext, SourceDialect};

fn run(sql: &str, d: SourceDialect) {
    let mut c: BTreeMap<String, u32> = BTreeMap::new();
    let mut new_id = |p: &str| { let n = c.entry(p.to_string()).or_default(); *n += 1; ObjectId::new(format!("{p}_{n}")) };
    let mut ctx = ImportContext { catalog: "shop", default_schema: "public", new_id: &mut new_id };
    match import_ddl(sql, d, &State::default(), &mut ctx) {
        Ok(r) => { for op in &r.ops { println!("OP {} {}", op.target, serde_json::to_string(&op.action).unwrap()); } for s in &r.skipped { println!("SKIP {s}"); } }
        Err(e) => println!("ERR {e}"),
    }
}

#[test]
fn scratch() {
    let f = std::env::var("SCRATCH_FILE").unwrap();
    let d: SourceDialect = std::env::var("SCRATCH_DIALECT").unwrap().parse().unwrap();
    run(&std::fs::read_to_string(f).unwrap(), d);
}
