// The live-chat page: pre-fills the form from the cookies POST /livechat/session sets, shows
// the server's messages next to their fields, and keeps the session token in localStorage until
// it expires. Then it opens a chat (PUT /v2/chats/{new id}, offered to the commercials GET
// /livechat/config names), talks on the hub (/lib/conversation.js), and any tab of this browser
// (a reload, a second tab) resumes that chat; once it is closed, the listener may rate it,
// reopen it or start a new one. One state at a time: the form (or why no chat can start), then
// the chat; a control is enabled only while it can work. Everything the server or a cookie says
// is written with textContent or value, never parsed as HTML.
"use strict";

const FIELDS = ["name", "city", "country"];
const TOKEN_KEY = "livechat.sessionToken";
const USER_KEY = "livechat.userId";
const CHAT_KEY = "livechat.chatId";
const EXPIRES_KEY = "livechat.expiresAt";

const CLOSED_BY = {
  VISITOR: "Obrolan ditutup oleh Anda.",
  COMMERCIAL: "Obrolan ditutup oleh penyiar.",
  ADMIN: "Obrolan ditutup oleh admin.",
  INACTIVITY: "Obrolan ditutup karena tidak ada aktivitas.",
  UNANSWERED: "Obrolan ditutup karena belum ada penyiar yang menjawab.",
};

const LIFECYCLE_ERRORS = {
  REOPEN_WINDOW_PASSED: "Obrolan ini sudah terlalu lama ditutup untuk dibuka kembali. Silakan mulai obrolan baru.",
  VISITOR_AT_CAP: "Anda sudah membuka terlalu banyak obrolan. Tutup salah satunya terlebih dahulu.",
  ALREADY_RATED: "Anda sudah menilai obrolan ini.",
  CHAT_NOT_CLOSED: "Obrolan ini belum ditutup.",
};

const STATUS_TEXT = {
  PENDING: "Menunggu penyiar menerima obrolan Anda…",
  ACTIVE: "Diterima — penyiar sudah bergabung.",
  CLOSED: "Obrolan sudah ditutup.",
};

function readCookie(name) {
  for (const part of document.cookie ? document.cookie.split("; ") : []) {
    const separator = part.indexOf("=");
    if (separator > 0 && part.slice(0, separator) === name) {
      try {
        return decodeURIComponent(part.slice(separator + 1));
      } catch {
        return "";
      }
    }
  }
  return "";
}

function showFieldErrors(errors) {
  for (const field of FIELDS) {
    const messages = errors[field] || [];
    document.getElementById(`${field}-error`).textContent = messages.join(" ");
    document.getElementById(field).setAttribute("aria-invalid", messages.length > 0 ? "true" : "false");
  }
}

function showStatus(text, ok) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = `status ${ok ? "ok" : "failed"}`;
  status.hidden = false;
}

const NOBODY_ON_DUTY = "Obrolan belum tersedia: belum ada penyiar yang bertugas. Silakan coba lagi nanti.";

// Whether anyone was on duty when the node was last asked (GET /livechat/config).
let onDuty = false;

// Whether a chat can start now: the start button waits for commercials on duty.
function showAvailability(config) {
  const available = Boolean(config) && (config.commercialIds || []).length > 0;
  onDuty = available;
  document.getElementById("start").disabled = !available;
  if (!config) {
    showStatus("Tidak dapat memuat pengaturan obrolan. Muat ulang halaman untuk mencoba lagi.", false);
  } else if (!available) {
    showStatus(NOBODY_ON_DUTY, false);
  }
  return available;
}

// The session of this browser (token, listener id, open chat), in localStorage so that every tab
// finds the chat, and dropped once the token has expired. The trade-off, in the README: whoever
// uses this browser profile until then is this listener.
const saved = {
  get() {
    const token = localStorage.getItem(TOKEN_KEY);
    const userId = localStorage.getItem(USER_KEY);
    const expires = Number(localStorage.getItem(EXPIRES_KEY));
    if (!token || !userId || !(expires > Date.now())) {
      this.clear();
      return null;
    }
    return { token, userId, chatId: localStorage.getItem(CHAT_KEY) };
  },
  session(token, userId) {
    localStorage.setItem(TOKEN_KEY, token);
    localStorage.setItem(USER_KEY, userId);
    localStorage.setItem(EXPIRES_KEY, String(Conversation.expiryOf(token)));
    localStorage.removeItem(CHAT_KEY);
  },
  chat(chatId) {
    localStorage.setItem(CHAT_KEY, chatId);
  },
  clear() {
    for (const key of [TOKEN_KEY, USER_KEY, EXPIRES_KEY, CHAT_KEY]) {
      localStorage.removeItem(key);
    }
  },
};

// The captcha widget, when the node has one (GET /livechat/config): the provider's script renders
// it into a div of its class and puts its response token in a form field of a known name.
let captcha = null;

async function loadConfig() {
  try {
    const response = await fetch("/livechat/config", { headers: { Accept: "application/json" } });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

function renderCaptcha(form, config) {
  captcha = (config && config.captcha) || null;
  if (!captcha) {
    return;
  }
  const widget = document.createElement("div");
  widget.className = captcha.widgetClass;
  widget.dataset.sitekey = captcha.siteKey;
  const error = document.createElement("p");
  error.className = "error";
  error.id = "captchaToken-error";
  error.setAttribute("role", "alert");
  const field = document.createElement("div");
  field.className = "field";
  field.append(widget, error);
  form.insertBefore(field, document.getElementById("start"));
  const script = document.createElement("script");
  script.src = captcha.scriptUrl;
  script.async = true;
  document.head.appendChild(script);
}

function captchaToken(form) {
  const field = captcha ? form.querySelector(`[name="${captcha.responseField}"]`) : null;
  return field ? field.value : "";
}

function showCaptchaError(messages) {
  const error = document.getElementById("captchaToken-error");
  if (error) {
    error.textContent = (messages || []).join(" ");
  }
}

// A token is good once: after any answer the widget is solved again for the next attempt.
function resetCaptcha() {
  const api = captcha && (captcha.provider === "turnstile" ? window.turnstile : window.hcaptcha);
  if (api && typeof api.reset === "function") {
    api.reset();
  }
}

async function startSession(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = document.getElementById("start");
  const body = Object.fromEntries(FIELDS.map((field) => [field, form.elements[field].value]));
  if (captcha) {
    body.captchaToken = captchaToken(form);
  }
  showFieldErrors({});
  showCaptchaError([]);
  document.getElementById("status").hidden = true;
  button.disabled = true;
  let started = false;
  try {
    const response = await fetch("/livechat/session", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": "id" },
      body: JSON.stringify(body),
    });
    const result = await response.json().catch(() => ({}));
    if (response.status === 201 && result.sessionToken) {
      saved.session(result.sessionToken, result.userId);
      showStatus(`Sesi dimulai. Selamat datang, ${body.name.trim()}! Menghubungkan Anda ke penyiar…`, true);
      started = true;
      // Until the chat shows, its errors replace this status; the button waits for the outcome.
      openChat(result.sessionToken, result.userId, body)
        .catch(() => showStatus("Gagal membuka obrolan. Muat ulang halaman untuk mencoba lagi.", false))
        .finally(() => {
          button.disabled = !onDuty;
        });
    } else if (response.status === 422 && result.errors) {
      showFieldErrors(result.errors);
      showCaptchaError(result.errors.captchaToken);
    } else {
      showStatus(result.message || "Gagal memulai sesi. Silakan coba lagi.", false);
    }
  } catch {
    showStatus("Tidak dapat terhubung ke server. Periksa koneksi Anda lalu coba lagi.", false);
  } finally {
    button.disabled = started;
    if (captcha) {
      resetCaptcha();
    }
  }
}

function showChatError(text) {
  document.getElementById("chat-error").textContent = text;
}

// PUT /v2/chats/{new id} with the session token, offered to the commercials on duty now. Until
// the chat shows, what goes wrong replaces the form's status.
async function openChat(token, userId, listener) {
  const config = await loadConfig();
  if (!showAvailability(config)) {
    return;
  }
  const commercialIds = config.commercialIds;
  const chatId = Conversation.newUuid();
  let response;
  try {
    response = await fetch(`/v2/chats/${chatId}`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({
        visitorId: userId,
        // Spec 001 asks no e-mail; the chat API requires one. A reserved .invalid address says
        // "none" without inventing one anybody could receive mail at.
        visitorInfo: {
          name: listener.name.trim(),
          email: `${userId}@livechat.invalid`,
          location: { city: listener.city.trim(), country: listener.country.trim() },
        },
        availableCommercialIds: commercialIds,
        metadata: { source: "livechat" },
      }),
    });
  } catch {
    showStatus("Tidak dapat terhubung ke server. Periksa koneksi Anda lalu coba lagi.", false);
    return;
  }
  if (response.status !== 200) {
    showStatus(
      response.status === 429 ? "Terlalu banyak obrolan dibuka. Coba lagi sebentar lagi."
        : response.status === 409 ? "Anda sudah membuka terlalu banyak obrolan."
          : `Gagal membuka obrolan (status ${response.status}). Silakan coba lagi.`, false);
    return;
  }
  const chat = await response.json();
  saved.chat(chat.id);
  await joinConversation(token, userId, chat);
}

// The conversation on the hub: live events, reconnects and resyncs catch up with JoinChat.
async function joinConversation(token, userId, chat) {
  const connection = Conversation.connect(token);
  const transcript = new Conversation.Transcript(document.getElementById("messages"), (message) =>
    message.senderRole === "visitor" && message.senderId === userId ? { who: "Anda", mine: true } : { who: "Penyiar", mine: false });
  const outbox = new Conversation.Outbox();
  const connectionText = document.getElementById("connection");
  const reconnect = document.getElementById("reconnect");
  let current = null;
  let connected = false;
  let sending = false;

  // Writing while the chat is open; sending, ending and reopening while connected too.
  const updateControls = () => {
    const closed = !current || current.status === "CLOSED";
    document.getElementById("text").disabled = closed;
    document.getElementById("send").disabled = closed || !connected || sending;
    document.getElementById("end-chat").disabled = !connected;
    document.getElementById("reopen").disabled = !connected;
  };

  const showChat = (resource) => {
    if (!Conversation.isNewer(resource, current)) {
      return;
    }
    current = resource;
    const status = document.getElementById("chat-status");
    status.textContent = STATUS_TEXT[resource.status] || resource.status;
    status.dataset.status = resource.status;
    // One state at a time: writing while open, the close's outcome once closed.
    const closed = resource.status === "CLOSED";
    document.getElementById("ended").hidden = !closed;
    if (resource.status !== "ACTIVE") {
      showIdle(null);
    }
    document.getElementById("end-chat").hidden = closed;
    updateControls();
    if (closed) {
      document.getElementById("closed-by").textContent = CLOSED_BY[resource.closeReason] || STATUS_TEXT.CLOSED;
      document.getElementById("rating-form").hidden = Boolean(resource.rating);
      const rated = document.getElementById("rated");
      rated.hidden = !resource.rating;
      rated.textContent = resource.rating ? `Terima kasih atas penilaian Anda (${resource.rating.rating}/5).` : "";
    }
  };
  // The chat closes for inactivity at closesAt unless a message comes first.
  const showIdle = (closesAt) => {
    const idle = document.getElementById("idle");
    idle.hidden = !closesAt;
    idle.textContent = closesAt
      ? `Tidak ada pesan untuk sementara waktu: obrolan akan ditutup pukul ${closesAt.toLocaleTimeString("id-ID")} kecuali ada pesan baru.`
      : "";
  };
  const refusal = (error) => {
    const code = Conversation.errorCode(error);
    showChatError(code ? LIFECYCLE_ERRORS[code] || `Permintaan ditolak (${code}).` : "Koneksi terputus; coba lagi.");
    if (code === "REOPEN_WINDOW_PASSED") {
      document.getElementById("reopen").hidden = true;
    }
  };
  const showConnection = (text, state) => {
    connectionText.textContent = text;
    connectionText.dataset.state = state;
    reconnect.hidden = state !== "closed";
    connected = state === "connected";
    updateControls();
  };
  const catchUp = async () => {
    try {
      showChat(await Conversation.catchUp(connection, chat.id, transcript));
    } catch (error) {
      showChatError(`Gagal memuat pesan (${Conversation.errorCode(error) || "koneksi"}). Pesan baru tetap diterima.`);
    }
  };
  const start = async () => {
    showConnection("Menghubungkan…", "connecting");
    try {
      await connection.start();
    } catch (error) {
      showConnection(Conversation.unauthorized(error) ? "Sesi Anda sudah berakhir. Muat ulang halaman untuk memulai sesi baru." : "Tidak dapat terhubung.", "closed");
      if (Conversation.unauthorized(error)) {
        saved.clear();
        reconnect.hidden = true;
      }
      return;
    }
    showConnection("Terhubung.", "connected");
    await catchUp();
  };

  connection.on("message", (message) => {
    if (message.chatId !== chat.id) {
      return;
    }
    showIdle(null);
    if (transcript.add(message) && transcript.hasGap) {
      catchUp();
    }
  });
  connection.on("chatIdle", (idle) => {
    if (idle.chatId === chat.id && current && current.status === "ACTIVE") {
      showIdle(new Date(idle.closesAt));
    }
  });
  for (const event of ["chatAccepted", "chatClosed", "chatReopened"]) {
    connection.on(event, (resource) => {
      if (resource.id === chat.id) {
        showChat(resource);
      }
    });
  }
  connection.on("resync", catchUp);
  connection.onreconnecting(() => showConnection("Koneksi terputus, menyambung ulang…", "lost"));
  connection.onreconnected(async () => {
    showConnection("Terhubung.", "connected");
    await catchUp();
  });
  connection.onclose(() => showConnection("Koneksi terputus.", "closed"));
  reconnect.addEventListener("click", start);

  const composer = document.getElementById("composer");
  const text = document.getElementById("text");
  Conversation.sendOnEnter(text, composer);
  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = text.value;
    if (value.trim() === "" || document.getElementById("send").disabled) {
      return;
    }
    sending = true;
    updateControls();
    showChatError("");
    try {
      if (transcript.add(await outbox.send(connection, chat.id, value)) && transcript.hasGap) {
        catchUp();
      }
      if (text.value === value) {
        text.value = "";
      }
    } catch (error) {
      const code = Conversation.errorCode(error);
      showChatError(code === "VALIDATION_FAILED" ? "Pesan harus berisi 1–4000 karakter tanpa karakter kontrol (misalnya tab)."
        : code ? `Pesan tidak terkirim (${code}).` : "Pesan tidak terkirim: koneksi terputus. Tekan Kirim lagi untuk mencoba ulang.");
    } finally {
      sending = false;
      updateControls();
      text.focus();
    }
  });

  document.getElementById("end-chat").addEventListener("click", async () => {
    showChatError("");
    try {
      showChat(await connection.invoke("CloseChat", chat.id, null));
    } catch (error) {
      refusal(error);
    }
  });
  document.getElementById("reopen").addEventListener("click", async () => {
    showChatError("");
    try {
      showChat(await connection.invoke("ReopenChat", chat.id));
    } catch (error) {
      refusal(error);
    }
  });
  document.getElementById("new-chat").addEventListener("click", async () => {
    // The form again, pre-filled from the cookies: a new session, a new chat.
    saved.clear();
    await connection.stop();
    location.reload();
  });
  document.getElementById("rating-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showChatError("");
    const picked = document.querySelector("input[name=rating]:checked");
    if (!picked) {
      showChatError("Pilih 1 sampai 5 bintang.");
      return;
    }
    const rate = document.getElementById("rate");
    rate.disabled = true;
    try {
      const comment = document.getElementById("comment").value.trim();
      const response = await fetch(`/v2/chats/${chat.id}/rating`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify({ rating: Number(picked.value), comment: comment === "" ? null : comment }),
      });
      const body = await response.json();
      if (response.status === 201) {
        showChat({ ...current, rating: body });
      } else {
        showChatError(LIFECYCLE_ERRORS[body.code] || "Penilaian tidak dapat dikirim: komentar paling banyak 1000 karakter, tanpa karakter kontrol.");
      }
    } catch {
      showChatError("Penilaian tidak terkirim: koneksi terputus. Coba lagi.");
    } finally {
      rate.disabled = false;
    }
  });

  document.getElementById("session-form").hidden = true;
  document.getElementById("status").hidden = true;
  document.getElementById("chat").hidden = false;
  showChat(chat);
  await start();
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("session-form");
  for (const field of FIELDS) {
    form.elements[field].value = readCookie(`livechat_${field}`);
  }
  form.addEventListener("submit", startSession);

  // A reload, or another tab of this browser, resumes the chat it opened (JoinChat from the
  // first message); else the form, once the node says whether anyone is on duty.
  const session = saved.get();
  if (session && session.chatId) {
    joinConversation(session.token, session.userId, { id: session.chatId, status: "PENDING" })
      .catch(() => showChatError("Gagal melanjutkan obrolan. Muat ulang halaman untuk mencoba lagi."));
    return;
  }
  document.getElementById("start").disabled = true;
  loadConfig().then((config) => {
    if (showAvailability(config)) {
      renderCaptcha(form, config);
    }
  });
});
