// The browser app's JSON routes (/app/…, blueprints/app_json.py): the session cookie, and the CSRF
// token in an X-CSRF-Token header on every write. A network failure is an ApiError with status 0.
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
  get offline() { return this.status === 0 || this.status >= 500 || this.status === 429; }
}

let token = null;

// The page's forms carry the token (the header's Logout form is on every signed-in page).
export async function csrfToken() {
  token ??= document.querySelector("input[name=csrf_token]")?.value;
  if (!token) token = (await request("GET", "/app/csrf")).csrf_token;
  return token;
}

async function request(method, path, { body, ifMatch } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = await csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch) headers["If-Match"] = ifMatch;
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { error: "offline" });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (response.status === 403 && data?.error?.startsWith("CSRF")) token = null; // a new sign-in: ask again
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const etagOf = (note) => `"${note.id}.${note.version}"`;
export const listNotes = (page = 1, q = "") =>
  request("GET", `/app/notes?page=${page}${q ? `&q=${encodeURIComponent(q)}` : ""}`);
export const getNote = (id) => request("GET", `/app/notes/${id}`);
export const createNote = (fields) => request("POST", "/app/notes", { body: fields });
export const updateNote = (note, fields) =>
  request("PATCH", `/app/notes/${note.id}`, { body: fields, ifMatch: etagOf(note) });
export const trashNote = (note) => request("DELETE", `/app/notes/${note.id}`, { ifMatch: etagOf(note) });
export const renderMarkdown = async (content) =>
  (await request("POST", "/app/preview", { body: { content } })).html;
