// The sections of the left rail, in order.

export type SectionId = 'timeline' | 'schema' | 'environments' | 'drift' | 'syncs' | 'scans' | 'connections';

export interface SectionInfo {
  id: SectionId;
  label: string;
  /** What the section says while the workspace has nothing for it. */
  empty?: { title: string; text: string; command: string };
}

export const SECTIONS: SectionInfo[] = [
  { id: 'timeline', label: 'Timeline' },
  { id: 'schema', label: 'Schema' },
  {
    id: 'environments',
    label: 'Environments',
    empty: {
      title: 'No environments yet',
      text: 'Environments (dev, test, prod) record which snapshot each database runs and promote snapshots from one to the next. Add one from the command line:',
      command: 'tidemark env add dev --connection …',
    },
  },
  {
    id: 'drift',
    label: 'Drift',
    empty: {
      title: 'No environments to check',
      text: 'A drift check compares an environment’s live database with the snapshot deployed there and lists missing, modified and extra objects. Add an environment first:',
      command: 'tidemark env add dev --connection …',
    },
  },
  {
    id: 'syncs',
    label: 'Syncs',
    empty: {
      title: 'No sync jobs yet',
      text: 'Sync jobs copy a source table incrementally to a target (optionally through an Iceberg table), with checkpoints and merge strategies. Create one with:',
      command: 'tidemark sync add NAME --source CONN --table T --target CONN --detect auto --merge upsert',
    },
  },
  {
    id: 'scans',
    label: 'Scans',
    empty: {
      title: 'No scans yet',
      text: 'A scan records a connection’s schemas, tables and columns; an incremental diff compares the last two scans. Run one with:',
      command: 'tidemark scan --connection-id NAME',
    },
  },
  {
    id: 'connections',
    label: 'Connections',
    empty: {
      title: 'No connections yet',
      text: 'Connections name a database (PostgreSQL, MySQL, SQL Server, SQLite, Databricks). Passwords stay in the OS keychain or an environment variable, never in the workspace. Add one with:',
      command: 'tidemark connection add NAME --url postgres://user@host:5432/db',
    },
  },
];
