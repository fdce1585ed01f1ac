// The agent console: a commercial pastes its JWT, connects to the hub, sees the chats offered
// to it appear (live and as the catch-up on connect), accepts one, chats, and closes it. What it
// was doing comes back in any tab: the hub's catch-up sends its active chats (chatAssigned) and
// its recently closed ones come from GET /v2/commercials/me/chats, each with its unread count as
// the server holds it. The token stays in this tab's sessionStorage (with the ids of the chats
// here and the one open, so a reload resumes them at once and reopens that conversation).
// Everything the server says is written with textContent, never parsed as HTML.
"use strict";

const TOKEN_KEY = "agent.token";
const CHATS_KEY = "agent.chats";
const SELECTED_KEY = "agent.selected";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const ACCEPT_ERRORS = {
  CHAT_ALREADY_TAKEN: "Another agent accepted this chat first.",
  NOT_OFFERED: "This chat was not offered to you.",
  CHAT_NOT_FOUND: "This chat no longer exists.",
};

const CLOSED_SHOWN = 20;

const SEND_ERRORS = {
  VALIDATION_FAILED: "A message has 1–4,000 characters and no control characters but newlines (no tabs).",
  NOT_A_PARTICIPANT: "You are not this chat's agent.",
  CHAT_NOT_FOUND: "This chat no longer exists.",
};

const state = {
  connection: null,
  offers: new Map(), // chat id → <li>
  chats: new Map(), // chat id → { chat, transcript, list, link, readUpTo, marking }
  selected: null,
  outbox: new Conversation.Outbox(),
};

const $ = (id) => document.getElementById(id);

function where(chat) {
  const info = chat.visitorInfo || {};
  const country = info.additionalData && info.additionalData.country;
  return [info.location, country].filter(Boolean).join(", ");
}

function showConnection(text, connectionState) {
  const connection = $("connection");
  connection.textContent = text;
  connection.dataset.state = connectionState;
  $("reconnect").hidden = connectionState !== "closed";
}

function showError(text) {
  $("console-error").textContent = text;
}

function savedChatIds() {
  try {
    const ids = JSON.parse(sessionStorage.getItem(CHATS_KEY) || "[]");
    return Array.isArray(ids) ? ids.filter((id) => typeof id === "string" && UUID.test(id)) : [];
  } catch {
    return [];
  }
}

function saveChatIds() {
  sessionStorage.setItem(CHATS_KEY, JSON.stringify([...state.chats.keys()]));
}

// --- offers -----------------------------------------------------------------------------

function upsertOffer(chat) {
  if (state.chats.has(chat.id) || chat.status !== "PENDING") {
    return;
  }
  const item = state.offers.get(chat.id) || Conversation.element("li", "offer");
  item.replaceChildren();
  item.dataset.chatId = chat.id;
  const text = Conversation.element("div");
  text.append(Conversation.element("span", "visitor", (chat.visitorInfo && chat.visitorInfo.name) || "Visitor"));
  const waiting = new Date(chat.createdAt).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
  text.append(Conversation.element("span", "detail", [where(chat), `waiting since ${waiting}`].filter(Boolean).join(" · ")));
  const accept = Conversation.element("button", "accept", "Accept");
  accept.type = "button";
  accept.addEventListener("click", () => acceptOffer(chat.id, accept));
  item.append(text, accept);
  if (!state.offers.has(chat.id)) {
    state.offers.set(chat.id, item);
    $("offers").append(item);
  }
  $("no-offers").hidden = true;
}

function removeOffer(chatId) {
  const item = state.offers.get(chatId);
  if (item) {
    item.remove();
    state.offers.delete(chatId);
  }
  $("no-offers").hidden = state.offers.size > 0;
}

async function acceptOffer(chatId, button) {
  button.disabled = true;
  showError("");
  try {
    const chat = await state.connection.invoke("AcceptChat", chatId);
    removeOffer(chatId);
    select(await addChat(chat));
  } catch (error) {
    const code = Conversation.errorCode(error);
    if (code in ACCEPT_ERRORS) {
      removeOffer(chatId);
    } else {
      button.disabled = false;
    }
    showError(code ? `${code}: ${ACCEPT_ERRORS[code] || "the server refused."}` : "The connection dropped before the server answered; try again.");
  }
}

// After a reconnect or a resync, an offer taken meanwhile is dropped (its chatTaken was missed).
async function refreshOffers() {
  for (const chatId of [...state.offers.keys()]) {
    try {
      const joined = await state.connection.invoke("JoinChat", chatId, 0);
      if (joined.chat.status === "PENDING") {
        upsertOffer(joined.chat);
      } else {
        removeOffer(chatId);
      }
    } catch (error) {
      if (Conversation.errorCode(error)) {
        removeOffer(chatId);
      }
    }
  }
}

// --- my chats ---------------------------------------------------------------------------

// The server's count when it last sent the chat, plus the visitor's messages since (a seq past
// that chat's totalMessages): the same number in every tab and after a reload.
function unreadOf(entry) {
  return (entry.chat.unreadMessagesCount || 0) + entry.transcript.countAfter("visitor", entry.chat.totalMessages || 0);
}

function render(entry) {
  const { chat, link } = entry;
  link.querySelector(".visitor").textContent = (chat.visitorInfo && chat.visitorInfo.name) || "Visitor";
  link.querySelector(".detail").textContent = [where(chat), chat.status.toLowerCase()].filter(Boolean).join(" · ");
  link.querySelector(".unread").textContent = state.selected === entry || unreadOf(entry) === 0 ? "" : String(unreadOf(entry));
  if (state.selected === entry) {
    $("conversation-title").textContent = (chat.visitorInfo && chat.visitorInfo.name) || "Visitor";
    // A listener from /livechat gives no e-mail; its chat carries a reserved …@livechat.invalid.
    const email = chat.visitorInfo && chat.visitorInfo.email;
    const reachable = email && !email.endsWith(".invalid") ? email : "no e-mail";
    $("conversation-meta").textContent = [where(chat), reachable, `chat ${chat.id}`, chat.status].filter(Boolean).join(" · ");
    $("read-state").textContent = chat.unreadMessagesCount === 0 ? "All messages read" : `${chat.unreadMessagesCount} unread`;
    $("send").disabled = chat.status !== "ACTIVE";
    $("close-chat").hidden = chat.status === "CLOSED";
    $("close-chat").disabled = false;
    $("rating").textContent = chat.rating
      ? `Rated ${chat.rating.rating}/5${chat.rating.comment ? `: “${chat.rating.comment}”` : ""}`
      : chat.status === "CLOSED" ? `Closed (${(chat.closeReason || "").toLowerCase()})` : "";
    const idle = chat.status === "ACTIVE" && entry.closesAt;
    $("idle").hidden = !idle;
    $("idle").textContent = idle ? `No message for a while: closes at ${entry.closesAt.toLocaleTimeString()} unless one is sent.` : "";
  }
  placeLink(entry);
}

// Open chats under "My chats", closed ones under "Closed".
function placeLink(entry) {
  const list = entry.chat.status === "CLOSED" ? $("closed-chats") : $("chats");
  const item = entry.link.parentElement;
  if (item.parentElement !== list) {
    list.prepend(item);
  }
  $("no-chats").hidden = $("chats").children.length > 0;
  $("no-closed").hidden = $("closed-chats").children.length > 0;
}

function update(entry, chat) {
  if (chat && Conversation.isNewer(chat, entry.chat)) {
    entry.chat = chat;
  }
  render(entry);
}

// Adds a chat to "My chats" (once) and fetches its messages.
async function addChat(chat) {
  let entry = state.chats.get(chat.id);
  if (!entry) {
    const list = Conversation.element("ol", "messages");
    list.dataset.chatId = chat.id;
    list.hidden = true;
    $("transcripts").append(list);
    const link = Conversation.element("button", "chat-link");
    link.type = "button";
    link.dataset.chatId = chat.id;
    const label = Conversation.element("span");
    label.append(Conversation.element("span", "visitor"), Conversation.element("span", "detail"));
    link.append(label, Conversation.element("span", "unread"));
    const item = Conversation.element("li");
    item.append(link);
    $("chats").append(item);
    entry = {
      chat,
      list,
      link,
      readUpTo: 0,
      marking: false,
      transcript: new Conversation.Transcript(list, (message) =>
        message.senderRole === "commercial" ? { who: "You", mine: true } : { who: (entry.chat.visitorInfo && entry.chat.visitorInfo.name) || "Visitor", mine: false }),
    };
    link.addEventListener("click", () => select(entry));
    state.chats.set(chat.id, entry);
    saveChatIds();
    // The conversation that was open before a reload opens again.
    if (!state.selected && sessionStorage.getItem(SELECTED_KEY) === chat.id) {
      select(entry);
    }
  }
  update(entry, chat);
  await catchUp(entry);
  return entry;
}

function dropChat(entry) {
  entry.list.remove();
  entry.link.parentElement.remove();
  state.chats.delete(entry.chat.id);
  saveChatIds();
  $("no-chats").hidden = $("chats").children.length > 0;
  $("no-closed").hidden = $("closed-chats").children.length > 0;
  if (state.selected === entry) {
    state.selected = null;
    sessionStorage.removeItem(SELECTED_KEY);
    $("conversation").hidden = true;
  }
}

async function catchUp(entry) {
  try {
    update(entry, await Conversation.catchUp(state.connection, entry.chat.id, entry.transcript));
    markRead(entry);
  } catch (error) {
    const code = Conversation.errorCode(error);
    if (code === "NOT_A_PARTICIPANT" || code === "CHAT_NOT_FOUND") {
      dropChat(entry);
    } else if (!code) {
      showError("Could not fetch a chat's messages: the connection dropped. They are fetched again on reconnect.");
    }
  }
}

function select(entry) {
  state.selected = entry;
  sessionStorage.setItem(SELECTED_KEY, entry.chat.id);
  for (const other of state.chats.values()) {
    other.list.hidden = other !== entry;
    other.link.setAttribute("aria-current", other === entry ? "true" : "false");
    render(other);
  }
  $("conversation").hidden = false;
  $("conversation-error").textContent = "";
  markRead(entry);
  $("text").focus();
}

// The open chat is read up to its last message while this tab is visible.
async function markRead(entry) {
  const upTo = entry.transcript.highestSeq;
  if (entry.marking || state.selected !== entry || document.visibilityState !== "visible" || upTo <= entry.readUpTo) {
    return;
  }
  entry.marking = true;
  try {
    const chat = await state.connection.invoke("MarkRead", entry.chat.id, upTo);
    entry.readUpTo = upTo;
    update(entry, chat);
  } catch {
    entry.marking = false;
    return;
  }
  entry.marking = false;
  markRead(entry);
}

// --- connection -------------------------------------------------------------------------

function onMessage(message) {
  const entry = state.chats.get(message.chatId);
  if (!entry) {
    // Accepted in another tab of the same commercial: JoinChat brings it, this message included.
    if (state.connection) {
      state.connection.invoke("JoinChat", message.chatId, 0)
        .then((joined) => addChat(joined.chat))
        .catch(() => {});
    }
    return;
  }
  if (entry.transcript.add(message)) {
    // A message cancels an inactivity warning.
    entry.closesAt = null;
    if (entry.transcript.hasGap) {
      catchUp(entry);
    }
    markRead(entry);
    render(entry);
  }
}

// Any chat event that carries the chat: the entry shows it (a closed chat moves to "Closed").
function onChat(chat) {
  const entry = state.chats.get(chat.id);
  if (entry) {
    update(entry, chat);
  }
}

// The chat closes for inactivity at closesAt unless a message comes first.
function onIdle(idle) {
  const entry = state.chats.get(idle.chatId);
  if (entry) {
    entry.closesAt = new Date(idle.closesAt);
    render(entry);
  }
}

async function closeSelected() {
  const entry = state.selected;
  if (!entry) {
    return;
  }
  $("close-chat").disabled = true;
  $("conversation-error").textContent = "";
  try {
    update(entry, await state.connection.invoke("CloseChat", entry.chat.id, null));
  } catch (error) {
    const code = Conversation.errorCode(error);
    $("conversation-error").textContent = code ? `${code}: the server refused to close this chat.` : "Not closed: the connection dropped; try again.";
    $("close-chat").disabled = false;
  }
}

// The chats this commercial closed lately, as the server lists them (a new tab knows none).
async function loadClosed(token) {
  try {
    const response = await fetch(`/v2/commercials/me/chats?status=CLOSED&limit=${CLOSED_SHOWN}`, {
      headers: { Accept: "application/json", Authorization: `Bearer ${token}` },
    });
    if (!response.ok) {
      return;
    }
    const { chats } = await response.json();
    for (const chat of chats.reverse()) {
      await addChat(chat);
    }
  } catch {
    // The live list still works; the closed ones show again at the next sign-in.
  }
}

function catchUpEverything() {
  for (const entry of state.chats.values()) {
    catchUp(entry);
  }
  refreshOffers();
}

async function signIn(token) {
  const claims = Conversation.claimsOf(token);
  if (!claims) {
    $("sign-in-error").textContent = "That is not a JWT (three base64url parts separated by dots).";
    return;
  }
  if (claims.role !== "commercial" || !UUID.test(claims.sub || "")) {
    $("sign-in-error").textContent = `That is not a commercial's token (role: ${claims.role ?? "none"}).`;
    return;
  }
  $("sign-in-error").textContent = "";
  $("connect").disabled = true;

  const connection = Conversation.connect(token);
  connection.on("chatOffered", upsertOffer);
  connection.on("chatTaken", (taken) => removeOffer(taken.chatId));
  connection.on("chatAccepted", onChat);
  connection.on("chatClosed", onChat);
  connection.on("chatRated", onChat);
  connection.on("chatIdle", onIdle);
  connection.on("chatAssigned", (chat) => {
    addChat(chat);
  });
  connection.on("message", onMessage);
  connection.on("resync", catchUpEverything);
  connection.onreconnecting(() => showConnection("Reconnecting…", "lost"));
  connection.onreconnected(() => {
    showConnection("Connected", "connected");
    catchUpEverything();
  });
  connection.onclose(() => showConnection("Disconnected", "closed"));
  state.connection = connection;

  try {
    await connection.start();
  } catch (error) {
    state.connection = null;
    $("connect").disabled = false;
    $("sign-in").hidden = false;
    $("sign-in-error").textContent = Conversation.unauthorized(error)
      ? "The server refused this token: it has expired, or this service did not sign it."
      : "Could not reach the server; try again.";
    sessionStorage.removeItem(TOKEN_KEY);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("token").value = "";
  $("connect").disabled = false;
  $("sign-in").hidden = true;
  $("console").hidden = false;
  $("who").hidden = false;
  $("identity").textContent = `Commercial ${claims.sub}`;
  showConnection("Connected", "connected");
  for (const chatId of savedChatIds()) {
    if (!state.chats.has(chatId)) {
      addChat({ id: chatId, status: "ACTIVE", visitorInfo: {}, unreadMessagesCount: 0, totalMessages: 0 });
    }
  }
  loadClosed(token);
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("token").value.trim());
  });
  $("sign-out").addEventListener("click", async () => {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(CHATS_KEY);
    sessionStorage.removeItem(SELECTED_KEY);
    if (state.connection) {
      await state.connection.stop();
    }
    location.reload();
  });
  $("reconnect").addEventListener("click", async () => {
    showConnection("Connecting…", "connecting");
    try {
      await state.connection.start();
      showConnection("Connected", "connected");
      catchUpEverything();
    } catch {
      showConnection("Disconnected", "closed");
    }
  });

  $("close-chat").addEventListener("click", closeSelected);

  const composer = $("composer");
  const text = $("text");
  Conversation.sendOnEnter(text, composer);
  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const entry = state.selected;
    const value = text.value;
    if (!entry || value.trim() === "" || $("send").disabled) {
      return;
    }
    $("send").disabled = true;
    $("conversation-error").textContent = "";
    try {
      if (entry.transcript.add(await state.outbox.send(state.connection, entry.chat.id, value)) && entry.transcript.hasGap) {
        catchUp(entry);
      }
      if (text.value === value) {
        text.value = "";
      }
    } catch (error) {
      const code = Conversation.errorCode(error);
      $("conversation-error").textContent = code
        ? `${code}: ${SEND_ERRORS[code] || "the server refused."}`
        : "Not sent: the connection dropped. Press Send again to retry (it will not be stored twice).";
    } finally {
      render(entry);
      text.focus();
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (state.selected) {
      markRead(state.selected);
    }
  });

  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    signIn(saved);
  }
});
