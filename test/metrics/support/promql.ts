// Just enough PromQL handling for the checks: split an alert expression at its top-level `and` /
// `unless`, drop the threshold comparison so the underlying series can be queried, and turn a
// Grafana dashboard's queries into plain PromQL.

/** Positions of characters outside any (), [], {} and string literal. */
function* topLevel(expr: string): Generator<number> {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (depth === 0) yield i;
  }
}

/** `a > 1 and b < 2` → [`a > 1`, `b < 2`]: each operand must have data for the alert to work. */
export function splitTopLevelConjunctions(expr: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (const i of topLevel(expr)) {
    const rest = expr.slice(i);
    const m = /^(and|unless)\b/.exec(rest);
    if (m !== null && /[\s)]/.test(expr[i - 1] ?? ' ')) {
      parts.push(expr.slice(start, i).trim());
      start = i + m[1].length;
    }
  }
  parts.push(expr.slice(start).trim());
  return parts.filter((p) => p !== '');
}

/** `x > 0.5` → `x`; an expression without a trailing `<op> [bool] number` is returned as is. */
export function stripThreshold(expr: string): string {
  let cut: number | undefined;
  for (const i of topLevel(expr)) {
    const m = /^(==|!=|>=|<=|>|<)\s*(bool\s+)?([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)\s*$/i.exec(expr.slice(i));
    if (m !== null && (i === 0 || !/[=!<>]/.test(expr[i - 1]))) {
      cut = i;
      break;
    }
  }
  return cut === undefined ? expr.trim() : expr.slice(0, cut).trim();
}

/** The expressions behind an alert's threshold: one per top-level `and`/`unless` operand. */
export function underlyingExpressions(alertExpr: string): string[] {
  return splitTopLevelConjunctions(alertExpr).map(stripThreshold);
}

export interface DashboardQuery {
  /** Panel title (or `annotation: name`) and refId, for messages. */
  where: string;
  expr: string;
}

interface PanelJson {
  title?: string;
  panels?: PanelJson[];
  targets?: Array<{ refId?: string; expr?: string }>;
}

interface DashboardJson {
  panels?: PanelJson[];
  annotations?: { list?: Array<{ name?: string; expr?: string }> };
}

/** Every PromQL expression in the dashboard: panel targets (rows included) and annotations. */
export function dashboardQueries(dashboard: DashboardJson): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  const visit = (panels: PanelJson[] | undefined) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) if (t.expr !== undefined) out.push({ where: `${p.title ?? '?'} (${t.refId ?? '?'})`, expr: t.expr });
      visit(p.panels);
    }
  };
  visit(dashboard.panels);
  for (const a of dashboard.annotations?.list ?? []) if (a.expr !== undefined) out.push({ where: `annotation: ${a.name ?? '?'}`, expr: a.expr });
  return out;
}

/**
 * What Grafana sends for `expr` with every template variable at its default (All = `.*`) and the
 * interval variables at `rateInterval`.
 */
export function resolveGrafanaVariables(expr: string, rateInterval: string): string {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$__range|\$\{__rate_interval\}|\$\{__interval\}|\$\{__range\}/g, rateInterval)
    .replace(/\$\{(namespace|release|job)(:[a-z]+)?\}|\$(namespace|release|job)\b/g, '.*');
}
