// The gateway's web chat: plain JavaScript modules, no build step; the one
// third-party file is the vendored Markdown parser (see vendor/README.md).
// Every text that comes from a user, a model or a tool is put in the page
// with textContent or as elements built from Markdown tokens, never as HTML.

import { betterAuth, jwtClaims } from "/auth.js";
import { hideError, showError as showErrorBox } from "/errors.js";
import { renderMarkdown } from "/markdown.js";
import { serverEvents } from "/stream.js";
import { browserZone, forgetZone, taskPanel } from "/tasks.js";

const $ = (id) => document.getElementById(id);
const STORAGE_KEY = "todo-gateway-token";

let panel = null;
/** Better Auth, when the gateway names it (sign-in with email and password). */
let auth = null;

const state = {
  token: null,
  user: null,
  conversationId: null,
  busy: false,
  lastMessage: null,
};

// ---- session -------------------------------------------------------------

/** The `sub` of a JWT, or null when it is not one. */
function tokenUser(token) {
  const sub = jwtClaims(token)?.sub;
  return typeof sub === "string" && sub ? sub : null;
}

function signIn(token) {
  const user = tokenUser(token);
  if (!user) {
    $("signin-error").textContent = "That is not a token this page can read (a JWT with a user in `sub`).";
    return false;
  }
  state.token = token;
  state.user = user;
  sessionStorage.setItem(STORAGE_KEY, token);
  $("who").textContent = user;
  $("signin").hidden = true;
  $("app").hidden = false;
  newChat();
  loadConversations();
  panel.refresh();
  $("message").focus();
  return true;
}

function signOut(reason) {
  state.token = null;
  state.user = null;
  sessionStorage.removeItem(STORAGE_KEY);
  $("app").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = reason || "";
  $("token-input").value = "";
  $("token-input").focus();
}

// ---- API -------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, retryAfter, code) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
    this.code = code;
  }
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${state.token}`, ...(options.headers || {}) },
  });
  if (!response.ok) {
    throw await apiError(response);
  }
  return response;
}

async function apiError(response) {
  let message = `The server answered ${response.status}.`;
  let code = null;
  try {
    const body = await response.json();
    if (body && typeof body.message === "string") message = body.message;
    if (body && typeof body.error === "string") code = body.error;
  } catch {
    // not JSON
  }
  const retryAfter = Number(response.headers.get("retry-after")) || null;
  if (response.status === 401) {
    signOut("Your sign-in has expired or is not valid. Please sign in again.");
  }
  return new ApiError(response.status, message, retryAfter, code);
}

const userPath = (rest) => `/api/${encodeURIComponent(state.user)}${rest}`;

// ---- conversations ---------------------------------------------------------

async function loadConversations() {
  try {
    const response = await api(userPath("/conversations?limit=50"));
    const { conversations } = await response.json();
    const list = $("conversations");
    list.replaceChildren();
    for (const conversation of conversations) {
      const item = document.createElement("li");
      item.dataset.id = conversation.id;
      if (conversation.id === state.conversationId) item.classList.add("current");
      const open = document.createElement("button");
      open.type = "button";
      open.className = "open";
      open.textContent = conversation.title;
      open.title = conversation.title;
      open.addEventListener("click", () => openConversation(conversation.id));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "delete";
      remove.textContent = "✕";
      remove.setAttribute("aria-label", `Delete conversation “${conversation.title}”`);
      remove.addEventListener("click", () => deleteConversation(conversation.id));
      item.append(open, remove);
      list.append(item);
    }
  } catch (error) {
    showError(error);
  }
}

async function openConversation(id) {
  if (state.busy) return;
  hideError();
  try {
    const response = await api(userPath(`/conversations/${id}?limit=200`));
    const conversation = await response.json();
    state.conversationId = conversation.conversation_id;
    const list = $("messages");
    list.replaceChildren();
    // One bubble per answer, as when it streamed: a turn's steps (text and
    // tool calls) and its final text go together.
    let answer = null;
    for (const message of conversation.messages) {
      if (message.role !== "assistant") {
        answer = null;
        addMessage(message.role, message.content || "");
        continue;
      }
      answer = answer || addMessage("assistant", "");
      appendText(answer, message.content || "");
      for (const call of message.tool_calls || []) {
        const chip = addChip(answer, call.name, call.arguments);
        settleChip(chip, call.result, call.is_error);
      }
    }
    for (const item of list.querySelectorAll("li.assistant")) showMarkdown(item);
    markCurrent();
    $("message").focus();
  } catch (error) {
    showError(error);
  }
}

async function deleteConversation(id) {
  if (state.busy) return;
  try {
    await api(userPath(`/conversations/${id}`), { method: "DELETE" });
    if (id === state.conversationId) newChat();
    await loadConversations();
  } catch (error) {
    showError(error);
  }
}

function newChat() {
  state.conversationId = null;
  $("messages").replaceChildren();
  hideError();
  markCurrent();
}

function markCurrent() {
  for (const item of $("conversations").children) {
    item.classList.toggle("current", Number(item.dataset.id) === state.conversationId);
  }
}

// ---- messages --------------------------------------------------------------

function addMessage(role, text) {
  const item = document.createElement("li");
  item.className = role;
  const body = document.createElement("div");
  body.className = "text";
  body.textContent = text;
  item.append(body);
  $("messages").append(item);
  item.scrollIntoView({ block: "end" });
  return item;
}

/** An answer's text, once complete, rendered as Markdown. */
function showMarkdown(message) {
  const body = message.querySelector(".text");
  const raw = body.textContent;
  if (raw) {
    body.replaceChildren(renderMarkdown(raw));
    body.classList.add("markdown");
  }
}

/** Add a step's text to an answer, on a line of its own after earlier text. */
function appendText(message, text) {
  const body = message.querySelector(".text");
  if (text && body.textContent) body.textContent += "\n";
  body.textContent += text;
}

function addChip(message, name, args) {
  let chips = message.querySelector(".chips");
  if (!chips) {
    chips = document.createElement("div");
    chips.className = "chips";
    message.append(chips);
  }
  const chip = document.createElement("details");
  chip.className = "chip";
  const summary = document.createElement("summary");
  summary.textContent = `${name} …`;
  const argsView = document.createElement("pre");
  argsView.textContent = `arguments: ${JSON.stringify(args)}`;
  chip.append(summary, argsView);
  chip.dataset.name = name;
  chips.append(chip);
  return chip;
}

function settleChip(chip, result, isError) {
  chip.querySelector("summary").textContent = `${chip.dataset.name} ${isError ? "✗" : "✓"}`;
  chip.classList.toggle("failed", Boolean(isError));
  const resultView = document.createElement("pre");
  resultView.textContent = `result: ${typeof result === "string" ? result : JSON.stringify(result, null, 1)}`;
  chip.append(resultView);
}

// ---- sending ---------------------------------------------------------------

async function send(text) {
  if (state.busy || !text.trim()) return;
  state.busy = true;
  state.lastMessage = text;
  $("send").disabled = true;
  hideError();
  addMessage("user", text);
  const reply = addMessage("assistant", "");
  reply.classList.add("pending");
  const chips = new Map();
  const body = { message: text };
  if (state.conversationId !== null) body.conversation_id = state.conversationId;
  if (browserZone()) body.timezone = browserZone();
  const post = () =>
    api(userPath("/chat"), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
      body: JSON.stringify(body),
    });
  try {
    let response;
    try {
      response = await post();
    } catch (error) {
      // A zone this server does not know: send without it (UTC).
      if (error.status !== 422 || !body.timezone || !/timezone/.test(error.message)) throw error;
      forgetZone();
      delete body.timezone;
      response = await post();
    }
    let ended = false;
    let newStep = false;
    for await (const event of serverEvents(response)) {
      switch (event.type) {
        case "conversation":
          state.conversationId = event.conversation_id;
          break;
        case "text_delta":
          if (newStep) appendText(reply, event.text);
          else reply.querySelector(".text").textContent += event.text;
          newStep = false;
          reply.scrollIntoView({ block: "end" });
          break;
        case "tool_call":
          chips.set(event.id, addChip(reply, event.name, event.arguments));
          newStep = true;
          break;
        case "tool_result": {
          const chip = chips.get(event.id);
          if (chip) settleChip(chip, event.result, event.is_error);
          break;
        }
        case "done":
          if (!reply.querySelector(".text").textContent) appendText(reply, event.response);
          showMarkdown(reply);
          ended = true;
          break;
        case "error":
          ended = true;
          throw new ApiError(event.error === "llm_timeout" ? 504 : 502, event.message, null);
      }
    }
    if (!ended) throw new ApiError(502, "The reply was cut off. Please try again.", null);
  } catch (error) {
    if (!reply.querySelector(".text").textContent && !reply.querySelector(".chips")) reply.remove();
    showError(error);
  } finally {
    reply.classList.remove("pending");
    state.busy = false;
    $("send").disabled = false;
    if (state.token) {
      loadConversations();
      panel.refresh();
    }
  }
}

// ---- errors ------------------------------------------------------------------

const showError = (error) => showErrorBox(error, state.lastMessage !== null);

// ---- wiring ------------------------------------------------------------------

function start() {
  panel = taskPanel($("task-panel"), { api, userPath, showError });
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("token-input").value.trim());
  });
  if (document.body.dataset.dev === "true") {
    $("dev-form").hidden = false;
    $("dev-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const response = await fetch("/dev/token", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ user: $("dev-user").value.trim() }),
        });
        const body = await response.json();
        if (!response.ok) throw new Error(body.message || "dev sign-in failed");
        signIn(body.token);
      } catch (error) {
        $("signin-error").textContent = error.message;
      }
    });
  }
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("message").value;
    if (!text.trim() || state.busy) return;
    $("message").value = "";
    send(text);
  });
  $("message").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("retry").addEventListener("click", () => {
    if (state.lastMessage !== null) send(state.lastMessage);
  });
  $("new-chat").addEventListener("click", () => {
    if (!state.busy) newChat();
    $("message").focus();
  });
  $("sign-out").addEventListener("click", () => {
    if (auth) auth.signOut();
    signOut();
  });
  const saved = sessionStorage.getItem(STORAGE_KEY);
  if (document.body.dataset.authUrl) {
    auth = betterAuth(document.body.dataset.authUrl);
    auth.wire(saved, {
      signIn,
      signOut,
      setToken: (fresh) => {
        state.token = fresh;
        sessionStorage.setItem(STORAGE_KEY, fresh);
      },
    });
  } else if (!saved || !signIn(saved)) {
    signOut();
  }
}

start();
