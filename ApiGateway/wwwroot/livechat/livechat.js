// The live-chat page: pre-fills the form from the cookies POST /livechat/session sets, shows
// the server's messages next to their fields, and keeps the session token for the WebSocket
// connection in sessionStorage. Everything the server or a cookie says is written with
// textContent or value, never parsed as HTML.
"use strict";

const FIELDS = ["name", "city", "country"];
const TOKEN_KEY = "livechat.sessionToken";

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

async function startSession(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const button = document.getElementById("start");
  const body = Object.fromEntries(FIELDS.map((field) => [field, form.elements[field].value]));
  showFieldErrors({});
  document.getElementById("status").hidden = true;
  button.disabled = true;
  try {
    const response = await fetch("/livechat/session", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": "id" },
      body: JSON.stringify(body),
    });
    const result = await response.json().catch(() => ({}));
    if (response.status === 201 && result.sessionToken) {
      sessionStorage.setItem(TOKEN_KEY, result.sessionToken);
      sessionStorage.setItem("livechat.sessionId", result.sessionId);
      showStatus(`Sesi dimulai. Selamat datang, ${body.name.trim()}! Anda sudah bisa terhubung ke obrolan.`, true);
    } else if (response.status === 422 && result.errors) {
      showFieldErrors(result.errors);
    } else {
      showStatus(result.message || "Gagal memulai sesi. Silakan coba lagi.", false);
    }
  } catch {
    showStatus("Tidak dapat terhubung ke server. Periksa koneksi Anda lalu coba lagi.", false);
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("session-form");
  for (const field of FIELDS) {
    form.elements[field].value = readCookie(`livechat_${field}`);
  }
  form.addEventListener("submit", startSession);
});
