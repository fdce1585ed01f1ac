// What the live-chat page and the agent console share: the hub connection, a transcript that
// shows each message once in sequence order, catching up with JoinChat, and sending with a
// client message id that a retry reuses. Needs /lib/signalr/signalr.min.js first.
// Everything from the server is written with textContent, never parsed as HTML.
"use strict";

const Conversation = (() => {
  const HUB = "/hubs/livechat";

  // crypto.randomUUID exists only in secure contexts; getRandomValues everywhere.
  function newUuid() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // The hub's refusal code ("... HubException: CHAT_ALREADY_TAKEN: ..."), or null when the call
  // failed before the hub answered (connection lost).
  function errorCode(error) {
    const match = /HubException: ([A-Z_]+): /.exec((error && error.message) || "");
    return match ? match[1] : null;
  }

  // True when the server refused the token (negotiation answered 401).
  function unauthorized(error) {
    return (error && error.statusCode === 401) || /\b401\b/.test((error && error.message) || "");
  }

  // A JWT's claims, for what a page may check before the server does (it alone decides).
  function claimsOf(token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const bytes = Uint8Array.from(atob(part.padEnd(Math.ceil(part.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return null;
    }
  }

  // When a JWT expires, in milliseconds since the epoch (0 when it does not say).
  function expiryOf(token) {
    const claims = claimsOf(token);
    return claims && Number.isFinite(claims.exp) ? claims.exp * 1000 : 0;
  }

  function connect(token) {
    return new signalR.HubConnectionBuilder()
      .withUrl(HUB, { accessTokenFactory: () => token })
      .withAutomaticReconnect()
      .configureLogging(signalR.LogLevel.Warning)
      .build();
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  // Where seq goes in an ascending array: the index of the first value above it.
  function placeOf(sorted, seq) {
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (sorted[middle] <= seq) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low;
  }

  // Most messages are the newest yet and are appended; one that fills a gap is placed by binary
  // search (near the end, so the splice moves little).
  function insertSorted(sorted, seq) {
    const index = sorted.length === 0 || sorted[sorted.length - 1] < seq ? sorted.length : placeOf(sorted, seq);
    sorted.splice(index, 0, seq);
    return index;
  }

  // One chat's messages in an <ol>: a seq already shown is ignored (a message arrives as the
  // SendMessage result, as a live event and again from a catch-up), and each is placed by seq.
  // No step walks the transcript, so a message costs the same in a chat of 10 or 200,000.
  class Transcript {
    constructor(list, describe) {
      this.list = list;
      this.describe = describe; // message => { who, mine }
      this.shown = new Map(); // seq → <li>
      this.seqs = []; // the shown seqs, ascending
      this.seqsBySender = new Map(); // sender role → its shown seqs, ascending
      this.contiguous = 0;
      this.revealing = null; // the <li> the next frame scrolls to
      // toLocaleTimeString builds a formatter per call: 10,000 calls took 1.5 s here, one reused formatter 0.06 s.
      this.time = new Intl.DateTimeFormat(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
    }

    // The last seq up to which nothing is missing: what JoinChat's afterSeq should be.
    get lastSeq() {
      return this.contiguous;
    }

    // A message arrived past one not seen: an event was lost, JoinChat brings it.
    get hasGap() {
      return this.highestSeq > this.contiguous;
    }

    get highestSeq() {
      return this.seqs.length === 0 ? 0 : this.seqs[this.seqs.length - 1];
    }

    // How many messages of senderRole are shown past seq (the agent's unread count).
    countAfter(senderRole, seq) {
      const seqs = this.seqsBySender.get(senderRole) || [];
      return seqs.length - placeOf(seqs, seq);
    }

    add(message) {
      if (this.shown.has(message.seq)) {
        return false;
      }
      const { who, mine } = this.describe(message);
      const item = element("li", `message ${mine ? "mine" : "theirs"}`);
      item.dataset.seq = String(message.seq);
      item.dataset.sender = message.senderRole;
      const head = element("p", "meta");
      head.append(element("span", "who", who));
      const time = element("time", "sent", this.time.format(new Date(message.sentAt)));
      time.dateTime = message.sentAt;
      head.append(time);
      item.append(head, element("p", "text", message.text));

      const next = this.seqs[insertSorted(this.seqs, message.seq) + 1];
      this.list.insertBefore(item, next === undefined ? null : this.shown.get(next));
      this.shown.set(message.seq, item);
      if (!this.seqsBySender.has(message.senderRole)) {
        this.seqsBySender.set(message.senderRole, []);
      }
      insertSorted(this.seqsBySender.get(message.senderRole), message.seq);
      while (this.shown.has(this.contiguous + 1)) {
        this.contiguous++;
      }
      this.reveal(item);
      return true;
    }

    // Scrolling lays the page out: scrolling per message laid a long list out once per message
    // (10,000 messages took minutes), so a frame scrolls once, to the message added last.
    reveal(item) {
      if (this.revealing === null) {
        requestAnimationFrame(() => {
          this.revealing.scrollIntoView({ block: "nearest" });
          this.revealing = null;
        });
      }
      this.revealing = item;
    }
  }

  // Fetches what came after the transcript's last seq, page after page; returns the chat.
  async function catchUp(connection, chatId, transcript) {
    for (;;) {
      const from = transcript.lastSeq;
      const joined = await connection.invoke("JoinChat", chatId, from);
      for (const message of joined.messages) {
        transcript.add(message);
      }
      if (!joined.hasMore || transcript.lastSeq === from) {
        return joined.chat;
      }
    }
  }

  // Sends text; a retry of the same text after a failure reuses its client message id, so a
  // send whose answer was lost is stored once.
  class Outbox {
    constructor() {
      this.pending = null;
    }

    async send(connection, chatId, text) {
      if (!this.pending || this.pending.chatId !== chatId || this.pending.text !== text) {
        this.pending = { chatId, text, id: newUuid() };
      }
      const message = await connection.invoke("SendMessage", chatId, this.pending.id, text);
      this.pending = null;
      return message;
    }
  }

  // Enter sends, Shift+Enter starts a new line.
  function sendOnEnter(textarea, form) {
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  // Within an episode a chat's status only moves forward, and a reopened chat starts a later
  // episode: an older resource (a slow JoinChat) never undoes a newer one.
  const STATUS_ORDER = { PENDING: 0, ACTIVE: 1, CLOSED: 2 };
  function isNewer(chat, current) {
    if (!current) {
      return true;
    }
    const [episode, currentEpisode] = [chat.episode ?? 1, current.episode ?? 1];
    return episode !== currentEpisode
      ? episode > currentEpisode
      : (STATUS_ORDER[chat.status] ?? 0) >= (STATUS_ORDER[current.status] ?? 0);
  }

  return { newUuid, errorCode, unauthorized, claimsOf, expiryOf, connect, element, Transcript, catchUp, Outbox, sendOnEnter, isNewer };
})();
