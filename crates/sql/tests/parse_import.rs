//! DDL import: one realistic shop schema per dialect, read into ops, plus the
//! behaviours that matter for importing into an existing project.
//!
//! The snapshots under `snapshots/` are the exact ops (and skipped
//! statements) each file produces; read them as the specification of what
//! the importer does with every construct.

use std::collections::{BTreeMap, BTreeSet};
use tidemark_model::{
    Action, Catalog, Column, DataType, ObjectId, PrimaryKey, Schema, State, Table,
};
use tidemark_sql::parse::{
    import_ddl, DdlImport, ImportContext, ImportedOp, ParseError, SourceDialect,
};

/// Imports with ids `{prefix}_{n}`, counted per prefix, so snapshots are
/// stable and readable.
fn import_into(
    sql: &str,
    dialect: SourceDialect,
    state: &State,
    default_schema: &str,
) -> Result<DdlImport, ParseError> {
    let mut counters: BTreeMap<String, u32> = BTreeMap::new();
    let mut new_id = |prefix: &str| {
        let n = counters.entry(prefix.to_string()).or_default();
        *n += 1;
        ObjectId::new(format!("{prefix}_{n}"))
    };
    let mut ctx = ImportContext {
        catalog: "shop",
        default_schema,
        new_id: &mut new_id,
    };
    import_ddl(sql, dialect, state, &mut ctx)
}

fn import(sql: &str, dialect: SourceDialect, default_schema: &str) -> DdlImport {
    let result = import_into(sql, dialect, &State::default(), default_schema)
        .unwrap_or_else(|e| panic!("import failed: {e}"));
    assert_applicable(&State::default(), &result.ops);
    result
}

/// Checks that every op targets something that exists by then (in the state
/// or created by an earlier op), that new ids are fresh, and that a foreign
/// key only points at a table that exists by then: the order a reducer
/// applying the ops one by one needs.
fn assert_applicable(state: &State, ops: &[ImportedOp]) {
    #[derive(PartialEq, Debug, Clone, Copy)]
    enum Kind {
        Root,
        Catalog,
        Schema,
        Table,
        Column,
        Constraint,
    }
    let mut kinds: BTreeMap<ObjectId, Kind> = BTreeMap::new();
    let mut schema_names: BTreeMap<ObjectId, String> = BTreeMap::new();
    let mut tables: BTreeSet<(String, String)> = BTreeSet::new();
    kinds.insert(ObjectId::root(), Kind::Root);
    for catalog in &state.catalogs {
        kinds.insert(catalog.id.clone(), Kind::Catalog);
        for schema in &catalog.schemas {
            kinds.insert(schema.id.clone(), Kind::Schema);
            schema_names.insert(schema.id.clone(), schema.name.clone());
            for table in &schema.tables {
                kinds.insert(table.id.clone(), Kind::Table);
                tables.insert((schema.name.clone(), table.name.clone()));
                for column in &table.columns {
                    kinds.insert(column.id.clone(), Kind::Column);
                }
            }
        }
    }
    for (i, op) in ops.iter().enumerate() {
        let target = kinds.get(&op.target).copied();
        let (expected, created): (&[Kind], Option<(ObjectId, Kind)>) = match &op.action {
            Action::AddCatalog { id, .. } => (&[Kind::Root], Some((id.clone(), Kind::Catalog))),
            Action::AddSchema { id, name } => {
                schema_names.insert(id.clone(), name.clone());
                (&[Kind::Catalog], Some((id.clone(), Kind::Schema)))
            }
            Action::AddTable { id, name } => {
                let schema = schema_names.get(&op.target).cloned().unwrap_or_default();
                assert!(
                    tables.insert((schema, name.clone())),
                    "op {i}: table {name} twice"
                );
                (&[Kind::Schema], Some((id.clone(), Kind::Table)))
            }
            Action::AddColumn { id, .. } => (&[Kind::Table], Some((id.clone(), Kind::Column))),
            Action::AddPrimaryKey { id, .. }
            | Action::AddUnique { id, .. }
            | Action::AddIndex { id, .. }
            | Action::AddCheck { id, .. } => (&[Kind::Table], Some((id.clone(), Kind::Constraint))),
            Action::AddForeignKey { id, references, .. } => {
                assert!(
                    tables.contains(&(references.schema.clone(), references.table.clone())),
                    "op {i}: foreign key to {}.{} before that table exists",
                    references.schema,
                    references.table
                );
                (&[Kind::Table], Some((id.clone(), Kind::Constraint)))
            }
            Action::SetComment { .. } => (
                &[Kind::Catalog, Kind::Schema, Kind::Table, Kind::Column],
                None,
            ),
            Action::SetNullable { .. }
            | Action::SetDefault { .. }
            | Action::SetIdentity { .. }
            | Action::ChangeColumnType { .. } => (&[Kind::Column], None),
            other => panic!("op {i}: the importer should not emit {}", other.name()),
        };
        assert!(
            target.is_some_and(|t| expected.contains(&t)),
            "op {i} ({}) targets {} which is {target:?}, expected one of {expected:?}",
            op.action.name(),
            op.target
        );
        if let Some((id, kind)) = created {
            assert!(
                kinds.insert(id.clone(), kind).is_none(),
                "op {i}: id {id} reused"
            );
        }
    }
}

const POSTGRES_SHOP: &str = r#"
-- Shop schema, PostgreSQL
SET client_encoding = 'UTF8';
CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE SCHEMA shop;

CREATE TABLE shop.customers (
    id bigserial PRIMARY KEY,
    public_id uuid NOT NULL DEFAULT uuid_generate_v4() UNIQUE,
    email character varying(255) NOT NULL,
    full_name text NOT NULL,
    "Straße" varchar(120),
    loyalty_points integer NOT NULL DEFAULT 0 CHECK (loyalty_points >= 0),
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    CONSTRAINT customers_email_key UNIQUE (email)
);

CREATE TABLE shop.products (
    id integer GENERATED ALWAYS AS IDENTITY,
    sku char(12) NOT NULL,
    name text NOT NULL,
    price numeric(10,2) NOT NULL,
    discount_price numeric(10,2),
    weight_kg real,
    rating double precision,
    attributes jsonb DEFAULT '{}'::jsonb,
    active boolean DEFAULT true,
    tags text[],
    PRIMARY KEY (id),
    UNIQUE (sku),
    CHECK (price >= 0),
    CONSTRAINT discount_below_price CHECK (discount_price < price)
);

CREATE TABLE shop."order" (
    id serial,
    customer_id bigint NOT NULL REFERENCES shop.customers ON DELETE RESTRICT,
    status varchar(20) NOT NULL DEFAULT 'new',
    placed_on date NOT NULL DEFAULT CURRENT_DATE,
    total numeric(12,2),
    "group" smallint,
    note text
);
ALTER TABLE ONLY shop."order" ADD CONSTRAINT order_pkey PRIMARY KEY (id);

CREATE TABLE shop.order_items (
    order_id integer NOT NULL,
    product_id integer NOT NULL,
    quantity int4 NOT NULL CHECK (quantity > 0),
    unit_price decimal(10,2) NOT NULL,
    PRIMARY KEY (order_id, product_id),
    FOREIGN KEY (order_id) REFERENCES shop."order" (id) ON DELETE CASCADE,
    CONSTRAINT order_items_product_fk FOREIGN KEY (product_id)
        REFERENCES shop.products (id) ON UPDATE CASCADE ON DELETE NO ACTION
);

-- Unqualified: lands in the default schema, which the file never creates.
CREATE TABLE audit_log (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    happened_at timestamptz NOT NULL,
    payload json
);

ALTER TABLE shop."order" ADD COLUMN shipped_at timestamp;
ALTER TABLE shop."order" ADD CONSTRAINT order_status_check
    CHECK (status IN ('new', 'paid', 'shipped'));
CREATE INDEX order_customer_idx ON shop."order" (customer_id);
CREATE UNIQUE INDEX customers_lower_email_idx ON shop.customers (lower(email));
CREATE INDEX ON shop."order" (placed_on DESC, status);
COMMENT ON TABLE shop.customers IS 'Kundinnen und Kunden';
COMMENT ON COLUMN shop.customers."Straße" IS 'Straße und Hausnummer';
INSERT INTO shop.products (sku, name, price) VALUES ('A-1', 'Tee', 4.5);
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO reporting;
"#;

#[test]
fn postgres_shop() {
    let result = import(POSTGRES_SHOP, SourceDialect::Postgres, "public");
    insta::assert_json_snapshot!(result);
}

/// What `pg_dump --schema-only` writes: sequences owned by columns, defaults
/// and keys added afterwards, identity columns altered in, owners, grants.
const POSTGRES_PG_DUMP: &str = r#"
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
COMMENT ON SCHEMA public IS 'standard public schema';
SET default_tablespace = '';

--
-- Name: customers; Type: TABLE; Schema: public; Owner: shop
--
CREATE TABLE public.customers (
    id integer NOT NULL,
    email character varying(255) NOT NULL
);
ALTER TABLE public.customers OWNER TO shop;

CREATE SEQUENCE public.customers_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER TABLE public.customers_id_seq OWNER TO shop;
ALTER SEQUENCE public.customers_id_seq OWNED BY public.customers.id;

CREATE TABLE public.orders (
    id bigint NOT NULL,
    customer_id integer
);
ALTER TABLE public.orders ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.orders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY public.customers ALTER COLUMN id SET DEFAULT nextval('public.customers_id_seq'::regclass);
ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX customers_email_idx ON public.customers USING btree (email);
CREATE INDEX orders_customer_id_idx ON public.orders USING hash (customer_id) WHERE (customer_id IS NOT NULL);
ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customers(id);
ALTER TABLE public.orders ALTER COLUMN customer_id SET NOT NULL;
ALTER TABLE public.orders ENABLE ROW LEVEL SECURITY;
GRANT ALL ON TABLE public.customers TO shop;
"#;

#[test]
fn postgres_pg_dump_output() {
    let result = import(POSTGRES_PG_DUMP, SourceDialect::Postgres, "public");
    insta::assert_json_snapshot!(result);
}

const MYSQL_SHOP: &str = r#"
/*!40101 SET NAMES utf8mb4 */;
CREATE DATABASE IF NOT EXISTS `shop`;
USE `shop`;

DROP TABLE IF EXISTS `customers`;
CREATE TABLE `customers` (
  `id` int NOT NULL AUTO_INCREMENT COMMENT 'Kundennummer',
  `email` varchar(255) NOT NULL,
  `name` varchar(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NOT NULL,
  `newsletter` tinyint(1) NOT NULL DEFAULT '0',
  `created_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `updated_at` timestamp NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_customers_email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='Kunden';

CREATE TABLE `products` (
  `id` int NOT NULL AUTO_INCREMENT,
  `sku` char(12) NOT NULL,
  `title` varchar(200) NOT NULL COMMENT 'Anzeigename — UTF-8 ✓',
  `description` mediumtext,
  `price` decimal(10,2) NOT NULL,
  `weight` float DEFAULT NULL,
  `image` blob,
  `stock` int unsigned NOT NULL DEFAULT '0',
  PRIMARY KEY (`id`),
  UNIQUE KEY (`sku`),
  KEY `idx_products_title` (`title`),
  CONSTRAINT `chk_price` CHECK (`price` >= 0)
) ENGINE=InnoDB;

CREATE TABLE `orders` (
  `id` bigint NOT NULL AUTO_INCREMENT,
  `customer_id` int NOT NULL,
  `group` varchar(20) DEFAULT NULL,
  `status` enum('new','paid','shipped') NOT NULL DEFAULT 'new',
  `total` decimal(12,2) NOT NULL DEFAULT '0.00',
  `placed_at` datetime(3) NOT NULL,
  `meta` json DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_orders_customer` (`customer_id`),
  CONSTRAINT `fk_orders_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE RESTRICT ON UPDATE CASCADE
) ENGINE=InnoDB;

CREATE TABLE `order_items` (
  `order_id` bigint NOT NULL,
  `product_id` int NOT NULL,
  `quantity` smallint NOT NULL DEFAULT 1 CHECK (`quantity` > 0),
  `unit_price` decimal(10,2) NOT NULL,
  PRIMARY KEY (`order_id`, `product_id`),
  FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`) ON DELETE CASCADE,
  FOREIGN KEY (`Product_ID`) REFERENCES `products` (`ID`)
);

LOCK TABLES `customers` WRITE;
INSERT INTO `customers` VALUES (1,'ann@example.com','Ann',0,'2024-01-01 00:00:00',NULL);
UNLOCK TABLES;

ALTER TABLE `orders` ADD COLUMN `note` text AFTER `status`;
ALTER TABLE `orders` ADD CONSTRAINT `chk_total` CHECK (`total` >= 0);
CREATE INDEX `idx_orders_placed` ON `orders` (`placed_at`);
CREATE UNIQUE INDEX idx_customer_name ON customers (name(50));
"#;

#[test]
fn mysql_shop() {
    let result = import(MYSQL_SHOP, SourceDialect::Mysql, "app");
    insta::assert_json_snapshot!(result);
}

const SQLITE_SHOP: &str = r#"
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE customers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  vip BOOLEAN NOT NULL DEFAULT 0,
  created_at DATETIME DEFAULT (datetime('now'))
);
CREATE TABLE products (
  id INTEGER PRIMARY KEY,
  sku VARCHAR(12) NOT NULL,
  title TEXT NOT NULL COLLATE NOCASE,
  price NUMERIC(10,2) NOT NULL CHECK (price >= 0),
  picture BLOB,
  rating REAL,
  UNIQUE (sku)
);
CREATE TABLE IF NOT EXISTS "order" (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  "select" TEXT,
  total NUMERIC NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new','paid','shipped'))
);
CREATE TABLE order_items (
  order_id INTEGER NOT NULL,
  product_id INTEGER NOT NULL,
  quantity INTEGER NOT NULL DEFAULT 1,
  "Stückpreis" NUMERIC(10,2) NOT NULL,
  PRIMARY KEY (order_id, product_id),
  FOREIGN KEY (order_id) REFERENCES "order"(id) ON DELETE CASCADE,
  FOREIGN KEY (product_id) REFERENCES products,
  CHECK (quantity > 0)
);
CREATE INDEX idx_order_customer ON "order"(customer_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_products_title ON products(title COLLATE NOCASE);
INSERT INTO customers VALUES(1,'a@example.com','Ann',0,'2024-01-01');
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('customers',1);
ALTER TABLE products ADD COLUMN discontinued BOOLEAN NOT NULL DEFAULT FALSE;
COMMIT;
"#;

#[test]
fn sqlite_shop() {
    let result = import(SQLITE_SHOP, SourceDialect::Sqlite, "main");
    insta::assert_json_snapshot!(result);
}

const SQLSERVER_SHOP: &str = r#"
CREATE SCHEMA sales;
GO
CREATE TABLE sales.customers (
    id INT IDENTITY(1,1) NOT NULL,
    email NVARCHAR(255) NOT NULL,
    display_name NVARCHAR(MAX) NULL,
    is_active BIT NOT NULL CONSTRAINT DF_customers_active DEFAULT 1,
    created_at DATETIME2(3) NOT NULL DEFAULT SYSUTCDATETIME(),
    public_id UNIQUEIDENTIFIER NOT NULL DEFAULT NEWID(),
    CONSTRAINT PK_customers PRIMARY KEY CLUSTERED (id),
    CONSTRAINT UQ_customers_email UNIQUE (email)
)
GO
CREATE TABLE [sales].[products] (
    [id] [int] IDENTITY(1,1) NOT NULL PRIMARY KEY,
    [sku] [nchar](12) NOT NULL,
    [name] [nvarchar](200) NOT NULL,
    [price] [decimal](10, 2) NOT NULL CHECK ([price] >= 0),
    [photo] VARBINARY(MAX) NULL,
    [weight] FLOAT NULL,
    [list_price] MONEY NULL
)
GO
CREATE TABLE [sales].[order] (
    [id] BIGINT IDENTITY(1,1) NOT NULL,
    [customer_id] INT NOT NULL,
    [select] NVARCHAR(20) NULL,
    [placed_at] DATETIMEOFFSET NOT NULL,
    [status] VARCHAR(10) NOT NULL DEFAULT 'new',
    CONSTRAINT [PK_order] PRIMARY KEY ([id]),
    CONSTRAINT [CK_order_status] CHECK ([status] IN ('new', 'paid', 'shipped'))
)
GO
CREATE TABLE sales.order_items (
    order_id BIGINT NOT NULL,
    product_id INT NOT NULL,
    quantity SMALLINT NOT NULL DEFAULT 1,
    unit_price DECIMAL(10,2) NOT NULL,
    CONSTRAINT PK_order_items PRIMARY KEY (order_id, product_id)
)
GO
ALTER TABLE [sales].[order] WITH CHECK ADD CONSTRAINT [FK_order_customers] FOREIGN KEY([customer_id])
REFERENCES [sales].[customers] ([id])
GO
ALTER TABLE [sales].[order] CHECK CONSTRAINT [FK_order_customers]
GO
ALTER TABLE sales.order_items ADD CONSTRAINT FK_items_order FOREIGN KEY (order_id) REFERENCES sales.[order] (id) ON DELETE CASCADE;
ALTER TABLE sales.order_items ADD CONSTRAINT FK_items_product FOREIGN KEY (product_id) REFERENCES sales.products (id);
ALTER TABLE sales.order_items ADD note NVARCHAR(400) NULL;
CREATE INDEX IX_order_customer ON [sales].[order] ([customer_id] ASC);
CREATE UNIQUE INDEX UX_products_sku ON sales.products (sku);
SET ANSI_NULLS ON
GO
EXEC sys.sp_addextendedproperty @name = N'MS_Description', @value = N'Kunden'
GO
"#;

#[test]
fn sqlserver_shop() {
    let result = import(SQLSERVER_SHOP, SourceDialect::SqlServer, "dbo");
    insta::assert_json_snapshot!(result);
}

/// What SQL Server Management Studio's "Generate Scripts" writes: storage
/// clauses, defaults and checks added after the table, constraints enabled
/// with `CHECK CONSTRAINT`, comments as extended properties.
const SQLSERVER_SSMS_SCRIPT: &str = r#"
USE [shop]
GO
/****** Object:  Table [dbo].[customers]    Script Date: 01.02.2025 10:00:00 ******/
SET ANSI_NULLS ON
GO
SET QUOTED_IDENTIFIER ON
GO
CREATE TABLE [dbo].[customers](
	[id] [int] IDENTITY(1,1) NOT NULL,
	[email] [nvarchar](255) NOT NULL,
	[notes] [nvarchar](max) NULL,
	[created_at] [datetime2](7) NOT NULL,
 CONSTRAINT [PK_customers] PRIMARY KEY CLUSTERED 
(
	[id] ASC
)WITH (PAD_INDEX = OFF, STATISTICS_NORECOMPUTE = OFF, IGNORE_DUP_KEY = OFF, ALLOW_ROW_LOCKS = ON, ALLOW_PAGE_LOCKS = ON, OPTIMIZE_FOR_SEQUENTIAL_KEY = OFF) ON [PRIMARY],
 CONSTRAINT [UQ_customers_email] UNIQUE NONCLUSTERED 
(
	[email] ASC
)WITH (PAD_INDEX = OFF, STATISTICS_NORECOMPUTE = OFF, IGNORE_DUP_KEY = OFF, ALLOW_ROW_LOCKS = ON, ALLOW_PAGE_LOCKS = ON, OPTIMIZE_FOR_SEQUENTIAL_KEY = OFF) ON [PRIMARY]
) ON [PRIMARY] TEXTIMAGE_ON [PRIMARY]
GO
/****** Object:  Table [dbo].[orders]    Script Date: 01.02.2025 10:00:00 ******/
CREATE TABLE [dbo].[orders](
	[id] [bigint] IDENTITY(1,1) NOT NULL,
	[customer_id] [int] NOT NULL,
	[total] [decimal](12, 2) NOT NULL,
 CONSTRAINT [PK_orders] PRIMARY KEY CLUSTERED 
(
	[id] ASC
)WITH (PAD_INDEX = OFF, STATISTICS_NORECOMPUTE = OFF, IGNORE_DUP_KEY = OFF, ALLOW_ROW_LOCKS = ON, ALLOW_PAGE_LOCKS = ON, OPTIMIZE_FOR_SEQUENTIAL_KEY = OFF) ON [PRIMARY]
) ON [PRIMARY]
GO
SET ANSI_PADDING ON
GO
CREATE NONCLUSTERED INDEX [IX_orders_customer] ON [dbo].[orders]
(
	[customer_id] ASC
)WITH (PAD_INDEX = OFF, STATISTICS_NORECOMPUTE = OFF, SORT_IN_TEMPDB = OFF, DROP_EXISTING = OFF, ONLINE = OFF, ALLOW_ROW_LOCKS = ON, ALLOW_PAGE_LOCKS = ON, OPTIMIZE_FOR_SEQUENTIAL_KEY = OFF) ON [PRIMARY]
GO
ALTER TABLE [dbo].[customers] ADD  CONSTRAINT [DF_customers_created_at]  DEFAULT (sysutcdatetime()) FOR [created_at]
GO
ALTER TABLE [dbo].[orders] ADD  DEFAULT ((0)) FOR [total]
GO
ALTER TABLE [dbo].[orders]  WITH CHECK ADD  CONSTRAINT [FK_orders_customers] FOREIGN KEY([customer_id])
REFERENCES [dbo].[customers] ([id])
ON DELETE CASCADE
GO
ALTER TABLE [dbo].[orders] CHECK CONSTRAINT [FK_orders_customers]
GO
ALTER TABLE [dbo].[orders]  WITH CHECK ADD  CONSTRAINT [CK_orders_total] CHECK  (([total]>=(0)))
GO
ALTER TABLE [dbo].[orders] CHECK CONSTRAINT [CK_orders_total]
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'Kundinnen und Kunden' , @level0type=N'SCHEMA',@level0name=N'dbo', @level1type=N'TABLE',@level1name=N'customers'
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'Freitext' , @level0type=N'SCHEMA',@level0name=N'dbo', @level1type=N'TABLE',@level1name=N'customers', @level2type=N'COLUMN',@level2name=N'notes'
GO
EXEC sp_addextendedproperty N'Owner', N'Sales', N'SCHEMA', N'dbo', N'TABLE', N'orders'
GO
"#;

#[test]
fn sqlserver_ssms_script() {
    let result = import(SQLSERVER_SSMS_SCRIPT, SourceDialect::SqlServer, "dbo");
    insta::assert_json_snapshot!(result);
}

// ----- importing into an existing project --------------------------------

fn column(id: &str, name: &str, data_type: DataType, nullable: bool) -> Column {
    Column {
        id: ObjectId::new(id),
        name: name.to_string(),
        data_type,
        nullable,
        default: None,
        comment: None,
        identity: false,
    }
}

fn table(id: &str, name: &str, columns: Vec<Column>) -> Table {
    Table {
        id: ObjectId::new(id),
        name: name.to_string(),
        columns,
        primary_key: None,
        uniques: Vec::new(),
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        checks: Vec::new(),
        comment: None,
        properties: BTreeMap::new(),
    }
}

/// A project with catalog `shop`, schema `public` and a `customers` table
/// whose key is already named `customers_pkey`.
fn existing_project() -> State {
    let mut customers = table(
        "t_customers",
        "customers",
        vec![
            column("c_id", "id", DataType::Integer, false),
            column("c_email", "email", DataType::Text, true),
        ],
    );
    customers.primary_key = Some(PrimaryKey {
        id: ObjectId::new("pk_customers"),
        name: "customers_pkey".to_string(),
        columns: vec!["id".to_string()],
    });
    State {
        catalogs: vec![Catalog {
            id: ObjectId::new("c_shop"),
            name: "shop".to_string(),
            comment: None,
            schemas: vec![Schema {
                id: ObjectId::new("s_public"),
                name: "public".to_string(),
                comment: None,
                tables: vec![customers],
            }],
        }],
    }
}

#[test]
fn existing_project_objects_are_targeted_by_their_ids() {
    let state = existing_project();
    let sql = r#"
        CREATE TABLE IF NOT EXISTS customers (id int PRIMARY KEY);
        CREATE TABLE orders (
            id int,
            customer_id int REFERENCES customers,
            CONSTRAINT customers_pkey_is_taken UNIQUE (id)
        );
        ALTER TABLE customers ADD CONSTRAINT customers_email_key UNIQUE (email);
        ALTER TABLE customers ADD PRIMARY KEY (email);
    "#;
    // The second primary key of `customers` is an error; without it the
    // rest imports.
    let err = import_into(sql, SourceDialect::Postgres, &state, "public").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 9: ALTER TABLE customers: table public.customers already has a primary key"
    );

    let sql = sql.replace("ALTER TABLE customers ADD PRIMARY KEY (email);", "");
    let result = import_into(&sql, SourceDialect::Postgres, &state, "public").unwrap();
    assert_applicable(&state, &result.ops);
    insta::assert_json_snapshot!(result);
}

#[test]
fn generated_names_skip_names_the_project_already_uses() {
    let mut state = existing_project();
    let customers = &mut state.catalogs[0].schemas[0].tables[0];
    customers.primary_key = None;
    customers.checks.push(tidemark_model::CheckConstraint {
        id: ObjectId::new("ck_old"),
        name: "customers_email_check".to_string(),
        expression: "email <> ''".to_string(),
    });
    let sql = "ALTER TABLE customers ADD PRIMARY KEY (email);
               ALTER TABLE customers ADD CHECK (length(email) > 3);";
    let result = import_into(sql, SourceDialect::Postgres, &state, "public").unwrap();
    assert_applicable(&state, &result.ops);
    let summary: Vec<String> = result
        .ops
        .iter()
        .map(|op| match &op.action {
            Action::AddPrimaryKey { name, columns, .. } => {
                format!("pk {} {:?}", name.as_deref().unwrap_or("?"), columns)
            }
            Action::AddCheck {
                name, expression, ..
            } => format!("check {name}: {expression}"),
            Action::SetNullable { nullable } => format!("{} nullable={nullable}", op.target),
            other => other.name().to_string(),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            // A primary key makes its columns NOT NULL.
            "c_email nullable=false".to_string(),
            "pk customers_pkey [\"email\"]".to_string(),
            "check customers_email_check1: length(email) > 3".to_string(),
        ]
    );
}

#[test]
fn postgres_folds_unquoted_names_and_keeps_quoted_ones() {
    let sql = r#"CREATE TABLE Customers (ID int PRIMARY KEY, "Name" text);
                 CREATE TABLE "Orders" (Customer_ID int REFERENCES CUSTOMERS (id));
                 COMMENT ON COLUMN customers."Name" IS 'as written';"#;
    let result = import(sql, SourceDialect::Postgres, "public");
    let names: Vec<String> = result
        .ops
        .iter()
        .filter_map(|op| match &op.action {
            Action::AddTable { name, .. } | Action::AddColumn { name, .. } => Some(name.clone()),
            Action::AddForeignKey {
                name, references, ..
            } => Some(format!(
                "{name} -> {}.{}",
                references.schema, references.table
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        vec![
            "customers",
            "id",
            "Name",
            "Orders",
            "customer_id",
            "Orders_customer_id_fkey -> public.customers"
        ]
    );
    // `customers."name"` is a different column in PostgreSQL.
    let err = import_into(
        "CREATE TABLE t (\"Name\" text); COMMENT ON COLUMN t.\"name\" IS 'x';",
        SourceDialect::Postgres,
        &State::default(),
        "public",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1: COMMENT ON COLUMN t.\"name\": no column name in table public.t"
    );
}

#[test]
fn mysql_use_switches_the_schema_of_unqualified_names() {
    let sql = "CREATE TABLE a (id int);
               USE `reporting`;
               CREATE TABLE b (id int);
               CREATE TABLE app.c (id int);";
    let result = import(sql, SourceDialect::Mysql, "app");
    let placed: Vec<(String, String)> = result
        .ops
        .iter()
        .filter_map(|op| match &op.action {
            Action::AddSchema { id, name } => Some((id.to_string(), name.clone())),
            Action::AddTable { name, .. } => Some((op.target.to_string(), name.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        placed,
        vec![
            ("sch_1".to_string(), "app".to_string()),
            ("sch_1".to_string(), "a".to_string()),
            ("sch_2".to_string(), "reporting".to_string()),
            ("sch_2".to_string(), "b".to_string()),
            ("sch_1".to_string(), "c".to_string()),
        ]
    );
}

#[test]
fn a_file_without_tables_creates_no_catalog() {
    let result = import(
        "SET NAMES utf8mb4; INSERT INTO t VALUES (1);",
        SourceDialect::Mysql,
        "app",
    );
    assert!(result.ops.is_empty());
    assert_eq!(
        result.skipped,
        vec![
            "line 1: SET NAMES utf8mb4",
            "line 1: INSERT INTO t VALUES (1)"
        ]
    );
}

#[test]
fn dialect_names_and_aliases() {
    for (name, dialect) in [
        ("postgres", SourceDialect::Postgres),
        ("PostgreSQL", SourceDialect::Postgres),
        ("mysql", SourceDialect::Mysql),
        ("mariadb", SourceDialect::Mysql),
        ("sqlite", SourceDialect::Sqlite),
        ("sqlserver", SourceDialect::SqlServer),
        ("mssql", SourceDialect::SqlServer),
    ] {
        assert_eq!(name.parse::<SourceDialect>().unwrap(), dialect, "{name}");
    }
    for dialect in SourceDialect::ALL {
        assert_eq!(dialect.name().parse::<SourceDialect>().unwrap(), dialect);
    }
    let err = "oracle".parse::<SourceDialect>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown SQL dialect \"oracle\": expected one of postgres (or postgresql), mysql (or mariadb), sqlite, sqlserver (or mssql)"
    );
}

/// Each op as `target op {payload}` on one line.
fn op_lines(result: &DdlImport) -> Vec<String> {
    result
        .ops
        .iter()
        .map(|op| {
            let json = serde_json::to_value(op).unwrap();
            let payload = json
                .get("payload")
                .map_or(String::new(), |p| format!(" {p}"));
            format!("{} {}{payload}", op.target, op.action.name())
        })
        .collect()
}

#[test]
fn alter_table_changes_columns_of_project_tables() {
    let state = existing_project();
    let sql = "ALTER TABLE customers ADD COLUMN code varchar(8) NOT NULL FIRST;
ALTER TABLE customers ADD COLUMN referrer_id int REFERENCES customers (id) AFTER id;
ALTER TABLE customers MODIFY COLUMN email varchar(300);
ALTER TABLE customers ALTER COLUMN email SET DEFAULT '';
ALTER TABLE customers ALTER COLUMN email DROP DEFAULT;
ALTER TABLE customers ADD CONSTRAINT chk_code CHECK (length(code) = 8);";
    let result = import_into(sql, SourceDialect::Mysql, &state, "public").unwrap();
    assert_applicable(&state, &result.ops);
    assert_eq!(
        op_lines(&result),
        vec![
            r#"t_customers add_column {"id":"col_1","name":"code","data_type":{"kind":"varchar","length":8},"nullable":false,"position":0}"#,
            r#"t_customers add_column {"id":"col_2","name":"referrer_id","data_type":{"kind":"integer"},"nullable":true,"position":2}"#,
            r#"c_email set_default {"default":"''"}"#,
            r#"c_email set_default {"default":null}"#,
            r#"t_customers add_check {"id":"ck_1","name":"chk_code","expression":"length(code) = 8"}"#,
            r#"t_customers add_foreign_key {"id":"fk_1","name":"customers_referrer_id_fkey","columns":["referrer_id"],"references":{"schema":"public","table":"customers"},"ref_columns":["id"],"on_delete":"no_action","on_update":"no_action"}"#,
        ]
    );
    assert_eq!(
        result.skipped,
        vec!["line 3: ALTER TABLE customers MODIFY COLUMN email varchar(300)"]
    );
}

#[test]
fn postgres_alter_column_forms() {
    let state = existing_project();
    let sql = "ALTER TABLE customers ALTER COLUMN email TYPE varchar(320), ALTER COLUMN email SET NOT NULL;
ALTER TABLE customers ALTER COLUMN email DROP NOT NULL;
ALTER TABLE customers ADD COLUMN n serial;
ALTER TABLE customers ADD COLUMN IF NOT EXISTS email text;";
    let result = import_into(sql, SourceDialect::Postgres, &state, "public").unwrap();
    assert_applicable(&state, &result.ops);
    assert_eq!(
        op_lines(&result),
        vec![
            r#"c_email change_column_type {"data_type":{"kind":"varchar","length":320}}"#,
            r#"c_email set_nullable {"nullable":false}"#,
            r#"c_email set_nullable {"nullable":true}"#,
            r#"t_customers add_column {"id":"col_1","name":"n","data_type":{"kind":"integer"},"nullable":false,"identity":true}"#,
        ]
    );
    assert_eq!(
        result.skipped,
        vec!["line 4: ALTER TABLE customers: column email already exists"]
    );
}

#[test]
fn imported_ops_serialize_like_log_ops_and_back() {
    let result = import(POSTGRES_SHOP, SourceDialect::Postgres, "public");
    let json = serde_json::to_string(&result).unwrap();
    let back: DdlImport = serde_json::from_str(&json).unwrap();
    assert_eq!(back, result);
    let first = serde_json::to_value(&result.ops[0]).unwrap();
    assert_eq!(
        first,
        serde_json::json!({"target": "root", "op": "add_catalog", "payload": {"id": "cat_1", "name": "shop"}})
    );
}
