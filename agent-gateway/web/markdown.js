// The assistant's answers as Markdown, built as DOM nodes. markdown-it (the
// vendored /vendor/markdown-it.min.js, loaded before this module) parses the
// text into tokens; this file makes elements from a fixed set of token kinds
// and puts every text in with textContent: no HTML string ever reaches the
// page, and HTML in an answer stays text.

const parser = globalThis.markdownit
  ? globalThis.markdownit({ html: false, linkify: false, typographer: false })
  : null;

const BLOCK_TAGS = {
  paragraph_open: "p", bullet_list_open: "ul", ordered_list_open: "ol", list_item_open: "li",
  blockquote_open: "blockquote", heading_open: "h4",
};
const INLINE_TAGS = { strong_open: "strong", em_open: "em", s_open: "s" };
const SAFE_LINK = /^(https?:|mailto:)/i;

/** `text` as a fragment of elements (plain text when the parser is missing). */
export function renderMarkdown(text) {
  const root = document.createDocumentFragment();
  if (!parser) {
    root.append(text);
    return root;
  }
  const stack = [root];
  const top = () => stack[stack.length - 1];
  for (const token of parser.parse(text, {})) {
    if (token.type === "inline") {
      appendInline(top(), token.children || []);
    } else if (token.type === "fence" || token.type === "code_block") {
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      code.textContent = token.content;
      pre.append(code);
      top().append(pre);
    } else if (token.type === "hr") {
      top().append(document.createElement("hr"));
    } else if (token.nesting === 1) {
      // A tight list's paragraphs are hidden: their text goes in the item.
      const tag = token.hidden ? null : BLOCK_TAGS[token.type];
      const element = tag ? document.createElement(tag) : top();
      if (tag) top().append(element);
      if (tag === "ol" && token.attrGet("start")) element.setAttribute("start", token.attrGet("start"));
      stack.push(element);
    } else if (token.nesting === -1 && stack.length > 1) {
      stack.pop();
    }
  }
  return root;
}

function appendInline(parent, tokens) {
  const stack = [parent];
  const top = () => stack[stack.length - 1];
  for (const token of tokens) {
    if (token.type === "text") {
      top().append(token.content);
    } else if (token.type === "code_inline") {
      const code = document.createElement("code");
      code.textContent = token.content;
      top().append(code);
    } else if (token.type === "softbreak" || token.type === "hardbreak") {
      top().append(document.createElement("br"));
    } else if (token.type === "link_open") {
      const href = token.attrGet("href") || "";
      const link = document.createElement(SAFE_LINK.test(href) ? "a" : "span");
      if (link.tagName === "A") {
        link.href = href;
        link.rel = "noopener noreferrer";
        link.target = "_blank";
      }
      top().append(link);
      stack.push(link);
    } else if (INLINE_TAGS[token.type]) {
      const element = document.createElement(INLINE_TAGS[token.type]);
      top().append(element);
      stack.push(element);
    } else if (token.nesting === -1 && stack.length > 1) {
      stack.pop();
    } else if (token.content) {
      top().append(token.content);
    }
  }
}
