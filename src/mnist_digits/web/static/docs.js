// API docs rendered from /openapi.json, offline: a small reader of the OpenAPI document
// (FastAPI's default Swagger page loads its code from a CDN, which fails without internet).
"use strict";

(() => {
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  };

  const refName = (ref) => ref.split("/").pop();

  // A compact, readable type: "string", "Prediction", "array of number", "A | B", ...
  function typeOf(schema) {
    if (!schema) return "any";
    if (schema.$ref) return refName(schema.$ref);
    if (schema.anyOf || schema.oneOf) return (schema.anyOf || schema.oneOf).map(typeOf).join(" | ");
    if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
    if (schema.const !== undefined) return JSON.stringify(schema.const);
    if (schema.type === "array") return `array of ${typeOf(schema.items)}`;
    if (schema.type === "string" && schema.format === "binary") return "file";
    return schema.type || "object";
  }

  function limits(schema) {
    const parts = [];
    if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
    if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
    if (schema.minItems !== undefined) parts.push(`min ${schema.minItems} items`);
    if (schema.maxItems !== undefined) parts.push(`max ${schema.maxItems} items`);
    return parts.join(", ");
  }

  function propertyTable(schema) {
    const props = schema.properties || {};
    const required = new Set(schema.required || []);
    const rows = Object.entries(props).map(([name, prop]) => el("tr", {},
      el("td", {}, el("code", {}, name), required.has(name) ? el("span", { class: "req" }, " required") : null),
      el("td", {}, el("code", {}, typeOf(prop))),
      el("td", {}, [prop.description || "", limits(prop)].filter(Boolean).join(" · "))));
    if (!rows.length) return el("p", { class: "muted" }, `Type: ${typeOf(schema)}`);
    return el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "field"), el("th", {}, "type"), el("th", {}, "about"))),
      el("tbody", {}, ...rows));
  }

  function operation(path, method, op) {
    const body = op.requestBody ? Object.entries(op.requestBody.content || {}) : [];
    const params = op.parameters || [];
    return el("section", { class: "card op" },
      el("h2", {}, el("span", { class: `verb ${method}` }, method.toUpperCase()), " ", el("code", {}, path)),
      el("p", { class: "summary" }, op.summary || ""),
      op.description ? el("p", { class: "muted" }, op.description) : null,
      params.length ? el("h3", {}, "Parameters") : null,
      params.length ? el("ul", {}, ...params.map((p) => el("li", {}, el("code", {}, p.name), ` (${p.in}): ${typeOf(p.schema)}`))) : null,
      body.length ? el("h3", {}, "Request body") : null,
      ...body.map(([type, media]) => el("div", { class: "media" }, el("code", { class: "ctype" }, type), " ", typeOf(media.schema),
        media.schema && media.schema.properties ? propertyTable(media.schema) : null)),
      el("h3", {}, "Responses"),
      el("ul", { class: "responses" }, ...Object.entries(op.responses || {}).map(([code, r]) => {
        const schema = r.content && r.content["application/json"] && r.content["application/json"].schema;
        return el("li", {}, el("strong", {}, code), ` ${r.description || ""} `, schema ? el("code", {}, typeOf(schema)) : null);
      })));
  }

  async function main() {
    const spec = await (await fetch("/openapi.json")).json();
    document.title = `${spec.info.title} ${spec.info.version} · API docs`;
    const intro = document.getElementById("intro");
    intro.textContent = spec.info.description || "";
    const ops = [];
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(methods)) ops.push(operation(path, method, op));
    }
    document.getElementById("operations").replaceChildren(...ops);
    const schemas = Object.entries((spec.components || {}).schemas || {});
    document.getElementById("schemas").replaceChildren(...schemas.map(([name, schema]) => el("div", { class: "schema", id: name },
      el("h3", {}, name), schema.description ? el("p", { class: "muted" }, schema.description) : null, propertyTable(schema))));
  }

  main().catch((err) => {
    document.getElementById("intro").textContent = `Could not load /openapi.json: ${err}`;
  });
})();
