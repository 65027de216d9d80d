// The API reference: reads /openapi.json and writes it out as HTML. Every
// text from the document goes in with textContent; nothing is fetched from
// anywhere but this origin.
"use strict";

const $ = (tag, attrs = {}, ...children) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v; else el.setAttribute(k, v);
  }
  for (const c of children) {
    if (c == null) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
};

const METHODS = ["get", "post", "put", "patch", "delete"];

function resolve(spec, obj) {
  let seen = 0;
  while (obj && obj.$ref && seen++ < 10) {
    const path = obj.$ref.replace(/^#\//, "").split("/");
    obj = path.reduce((o, k) => (o ? o[k] : undefined), spec);
  }
  return obj;
}

// A schema as a compact, readable JSON-like outline.
function outline(spec, schema, depth = 0, seen = new Set()) {
  if (!schema) return "any";
  if (schema.$ref) {
    const name = schema.$ref.split("/").pop();
    if (seen.has(name) || depth > 6) return name;
    const next = new Set(seen); next.add(name);
    return outline(spec, resolve(spec, schema), depth, next);
  }
  const pad = "  ".repeat(depth + 1), end = "  ".repeat(depth);
  for (const key of ["oneOf", "anyOf", "allOf"]) {
    if (schema[key]) {
      const parts = schema[key].map((s) => outline(spec, s, depth, seen));
      return parts.join(key === "allOf" ? " & " : " | ");
    }
  }
  const type = Array.isArray(schema.type) ? schema.type.filter((t) => t !== "null") : [schema.type];
  const nullable = Array.isArray(schema.type) && schema.type.includes("null") ? " | null" : "";
  if (type.includes("object") && schema.properties) {
    const required = new Set(schema.required || []);
    const lines = Object.entries(schema.properties).map(([k, v]) => {
      const note = v.description ? `  // ${v.description.split("\n")[0]}` : "";
      return `${pad}${k}${required.has(k) ? "" : "?"}: ${outline(spec, v, depth + 1, seen)}${note}`;
    });
    return `{\n${lines.join("\n")}\n${end}}${nullable}`;
  }
  if (type.includes("array")) return `[${outline(spec, schema.items, depth, seen)}]${nullable}`;
  const bits = [type.filter(Boolean).join(" | ") || "any"];
  if (schema.enum) bits[0] = schema.enum.map((e) => JSON.stringify(e)).join(" | ");
  if (schema.format) bits.push(`(${schema.format})`);
  return bits.join(" ") + nullable;
}

function parametersTable(spec, params) {
  if (!params || !params.length) return null;
  const rows = params.map((p) => {
    p = resolve(spec, p);
    return $("tr", {}, $("td", {}, $("code", {}, p.name)), $("td", {}, p.in),
      $("td", {}, p.required ? "yes" : "no"), $("td", {}, outline(spec, p.schema)),
      $("td", {}, p.description || ""));
  });
  return $("table", {}, $("thead", {}, $("tr", {}, ...["name", "in", "required", "type", ""].map((h) => $("th", {}, h)))),
    $("tbody", {}, ...rows));
}

function contentBlocks(spec, content) {
  return Object.entries(content || {}).map(([type, media]) =>
    $("div", {}, $("span", { class: "muted" }, type),
      media.schema ? $("pre", {}, outline(spec, media.schema)) : null));
}

function operation(spec, path, method, op) {
  const id = `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, "-");
  const section = $("section", { class: "op", id },
    $("h3", {}, $("span", { class: `method ${method}` }, method.toUpperCase()), path,
      op.security && op.security.length ? $("span", { class: "lock" }, "bearer token") : null));
  if (op.summary) section.append($("p", {}, $("strong", {}, op.summary)));
  if (op.description) section.append($("p", { class: "desc" }, op.description));
  const params = parametersTable(spec, op.parameters);
  if (params) section.append($("h4", {}, "Parameters"), params);
  if (op.requestBody) {
    const body = resolve(spec, op.requestBody);
    section.append($("h4", {}, "Request body"), ...contentBlocks(spec, body.content));
  }
  section.append($("h4", {}, "Responses"));
  const rows = Object.entries(op.responses || {}).map(([status, response]) => {
    response = resolve(spec, response);
    const headers = Object.keys(response.headers || {});
    return $("tr", {}, $("td", {}, $("code", {}, status)),
      $("td", {}, response.description || "",
        headers.length ? $("div", { class: "muted" }, `Headers: ${headers.join(", ")}`) : null,
        ...contentBlocks(spec, response.content)));
  });
  section.append($("table", {}, $("tbody", {}, ...rows)));
  return { id, section };
}

async function main() {
  const reference = document.getElementById("reference");
  const toc = document.getElementById("toc");
  let spec;
  try {
    const response = await fetch("/openapi.json");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    spec = await response.json();
  } catch (error) {
    document.getElementById("status").textContent = `Cannot load /openapi.json: ${error.message}`;
    return;
  }
  document.title = `${spec.info.title} ${spec.info.version} API reference`;
  document.getElementById("title").textContent = `${spec.info.title} ${spec.info.version}`;
  reference.replaceChildren($("p", { class: "desc" }, spec.info.description || ""));
  const byTag = new Map((spec.tags || []).map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      const tag = (item[method].tags || ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push([path, method, item[method]]);
    }
  }
  const list = $("ul");
  const tagInfo = new Map((spec.tags || []).map((t) => [t.name, t.description]));
  for (const [tag, ops] of byTag) {
    if (!ops.length) continue;
    reference.append($("h2", {}, tag), tagInfo.get(tag) ? $("p", { class: "muted" }, tagInfo.get(tag)) : null);
    for (const [path, method, op] of ops) {
      const { id, section } = operation(spec, path, method, op);
      reference.append(section);
      list.append($("li", {}, $("a", { href: `#${id}` }, `${method.toUpperCase()} ${path}`)));
    }
  }
  toc.replaceChildren(list);
  const schemas = spec.components && spec.components.schemas;
  if (schemas) {
    reference.append($("h2", {}, "Schemas"));
    for (const [name, schema] of Object.entries(schemas)) {
      reference.append($("section", { class: "op", id: `schema-${name}` }, $("h3", {}, name),
        schema.description ? $("p", { class: "desc" }, schema.description) : null,
        $("pre", {}, outline(spec, schema))));
    }
  }
  document.body.dataset.ready = "true";
}

main();
