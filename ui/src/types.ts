// Types derived from the generated bindings (never restated by hand).

import type { DataType } from './bindings/DataType';
import type { ObjectId } from './bindings/ObjectId';
import type { Op } from './bindings/Op';

export type { Severity } from './bindings/Severity';
import type { Severity } from './bindings/Severity';

/** Every severity, harmless first. */
export const SEVERITIES: readonly Severity[] = ['safe', 'risky', 'breaking'];

/** The kinds of logical column types. */
export type TypeKind = DataType['kind'];

type WithoutIds<T> = T extends { payload: infer P }
  ? Omit<T, 'id' | 'ts' | 'payload'> & {
      payload: P extends { id: ObjectId } ? Omit<P, 'id'> & { id?: ObjectId } : P;
    }
  : Omit<T, 'id' | 'ts'>;

/**
 * An op as the UI sends it to `add_ops`: the backend fills in `id`, `ts` and
 * the new object's `payload.id`.
 */
export type NewOp = Op extends infer T ? (T extends unknown ? WithoutIds<T> : never) : never;

/** The name of an op, e.g. `add_column`. */
export type OpName = Op['op'];
