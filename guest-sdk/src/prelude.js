// Evaluated once in the guest before any script (and snapshotted). Turns the two
// native hooks, __pingone_call and __console, into the API scripts use.
(() => {
  const hostCall = globalThis.__pingone_call;
  const writeLog = globalThis.__console;
  delete globalThis.__pingone_call;
  delete globalThis.__console;

  class PingOneError extends Error {
    constructor(e) {
      super(e.message);
      this.name = 'PingOneError';
      this.action = e.action;
      this.status = e.status ?? null;
      this.code = e.code;
      this.details = e.details ?? [];
    }
  }

  async function invoke(action, args) {
    if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
      throw new TypeError(`pingone.${action}(args): args must be an object such as { userId: "..." }, got ${args === null ? 'null' : Array.isArray(args) ? 'an array' : typeof args}`);
    }
    const reply = await hostCall(action, JSON.stringify(args ?? {}));
    if ('error' in reply) throw new PingOneError(reply.error);
    return reply.value;
  }

  // Every item of a list action, page by page, without holding them all at once:
  //   for await (const user of pingone.iterate('list_users', { filter: '...' })) { ... }
  async function* iterate(action, args) {
    let cursor;
    do {
      const page = await invoke(action, cursor ? { ...args, cursor } : args);
      if (!page || !Array.isArray(page.items)) {
        throw new TypeError(`pingone.iterate: ${action} is not a list action (it returned no items)`);
      }
      yield* page.items;
      cursor = page.cursor;
    } while (cursor);
  }

  const helpers = {
    search: (query, limit) => invoke('__search', { query: String(query), limit }),
    describe: (id) => invoke('__describe', { id: String(id) }),
    iterate,
  };

  globalThis.pingone = new Proxy(Object.create(null), {
    get(_, name) {
      if (typeof name !== 'string' || name === 'then') return undefined;
      if (name in helpers) return helpers[name];
      return (args) => invoke(name, args);
    },
    set() { throw new TypeError('pingone is read-only'); },
  });
  globalThis.PingOneError = PingOneError;

  const show = (v) => {
    if (typeof v === 'string') return v;
    if (v instanceof Error) return `${v.name}: ${v.message}`;
    try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
  };
  const logger = (level) => (...values) => writeLog(level, values.map(show).join(' '));
  globalThis.console = { log: logger(0), info: logger(1), warn: logger(2), error: logger(3), debug: logger(4) };

  const absent = (name, instead) => () => {
    throw new Error(`${name} is not available in the sandbox: ${instead}`);
  };
  globalThis.fetch = absent('fetch', 'the only way out is a PingOne action, e.g. await pingone.list_users({ limit: 10 })');
  globalThis.require = absent('require', 'there are no modules; everything is on the global `pingone` object');
  globalThis.setTimeout = absent('setTimeout', 'scripts cannot sleep; use await on actions instead');
  globalThis.setInterval = absent('setInterval', 'scripts cannot schedule work');
})();
