/** MXNet's hidden variable attributes (`__shape__`, `__dtype__`, `__lr_mult__`, …). */
import { Shape } from "../base/shape.js";
import { ParamError } from "../base/errors.js";
import { P } from "../ops/params.js";

export const HIDDEN_KEYS = [
  "__shape__",
  "__dtype__",
  "__init__",
  "__lr_mult__",
  "__wd_mult__",
  "__storage_type__",
  "__force_mirroring__",
  "__mirror_stage__",
  "__ctx_group__",
] as const;

export function parseShapeAttr(s: string, where: string): Shape {
  try {
    return P.tuple.required().parse(s);
  } catch (e) {
    throw new ParamError(`${where}: cannot parse __shape__ "${s}": ${(e as Error).message}`);
  }
}

export function printShapeAttr(s: Shape): string {
  return P.tuple.required().print([...s]);
}
