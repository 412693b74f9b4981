// Evaluated once in the guest before any script (and snapshotted). Turns the two
// native hooks, __pingone_call and __console, into the API scripts use.
(() => {
  const hostCall = globalThis.__pingone_call;
  const bindAction = globalThis.__pingone_action;
  const writeLog = globalThis.__console;
  const setPrototypes = globalThis.__pingone_prototypes;
  const scriptSite = globalThis.__pingone_site;
  delete globalThis.__pingone_call;
  delete globalThis.__pingone_action;
  delete globalThis.__console;
  delete globalThis.__pingone_prototypes;
  delete globalThis.__pingone_site;

  class PingOneError extends Error {
    constructor(e) {
      super(e.message);
      this.name = 'PingOneError';
      this.action = e.action;
      this.status = e.status ?? null;
      this.code = e.code;
      this.details = e.details ?? [];
      // What PingOne's logs know the request by; null when none was sent.
      this.transactionId = e.transactionId ?? null;
    }

    // `${e}` and String(e) carry what the details say, as an uncaught error's text
    // does: PingOne's message alone is often only "One or more validation errors…".
    // A detail the message says already (an argument error lists its problems) is not
    // said again.
    toString() {
      const said = this.details
        .filter(d => typeof d?.message === 'string' && !this.message.includes(d.message))
        .map(d => (d.target ? `${d.target}: ${d.message}` : d.message));
      return `${this.name}: ${this.message}${said.length ? ` (${said.join('; ')})` : ''}`;
    }
  }

  // The prototype of every call's promise. Reading it as if it were the result (a
  // missing `await`: `pingone.get_user({...}).enabled`) throws at once, instead of
  // giving undefined and a wrong answer; what a promise has (then, catch, constructor…)
  // reads as usual, and `toJSON` is left undefined so a promise in a result is found.
  const callPrototype = new Proxy(Promise.prototype, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || key in target || key === 'toJSON') return Reflect.get(target, key, receiver);
      throw new TypeError(`"${key}" was read from a pending call, not its result: put \`await\` before the pingone call, e.g. const user = await pingone.get_user({ userId })`);
    },
    getPrototypeOf: () => Promise.prototype,
  });

  // The prototype of a list action's page ({ items, count, cursor }). Using the page as
  // the array of its items (`users.filter(…)`, `users.length`, `for (const u of users)`)
  // throws, saying where the items are, instead of giving undefined.
  const pagePrototype = new Proxy(Object.prototype, {
    get(target, key, receiver) {
      const arrayLike = typeof key === 'string' && !(key in target) && (key in Array.prototype || /^\d+$/.test(key));
      if (key === Symbol.iterator || arrayLike) {
        throw new TypeError(`${typeof key === 'symbol' ? 'iterating' : `"${key}" was read from`} a page of results, which is { items, count, cursor }, not an array: use page.items, or pass all: true to get every item as an array`);
      }
      return Reflect.get(target, key, receiver);
    },
    getPrototypeOf: () => Object.prototype,
  });
  setPrototypes(callPrototype, pagePrototype);

  // Not an async function: the promise hostCall returns is the call's own, settled by
  // the guest's native side with the action's value or a PingOneError, so a call costs
  // one promise and no extra await. Failures here still reject rather than throw.
  function invoke(action, args) {
    if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) {
      return Promise.reject(new TypeError(`pingone.${action}(args): args must be an object such as { userId: "..." }, got ${args === null ? 'null' : Array.isArray(args) ? 'an array' : typeof args}`));
    }
    let json;
    try {
      json = JSON.stringify(args ?? {});
    } catch (e) {
      return Promise.reject(e);
    }
    return hostCall(action, json, PingOneError);
  }

  // Every item of a list action, page by page, without holding them all at once:
  //   for await (const user of pingone.iterate('list_users', { filter: '...' })) { ... }
  // Its pages are fetched later, away from the script's frames: a failure names the
  // line that called pingone.iterate.
  function iterate(action, args) {
    if (args != null && typeof args === 'object' && args.all !== undefined) {
      // all: true answers with every item at once, not a page: said before any call.
      const next = () => Promise.reject(new TypeError(`pingone.iterate(${action}) pages by itself: leave out \`all\``));
      return { [Symbol.asyncIterator]: () => ({ next }) };
    }
    return pagesOf(action, args, scriptSite(`pingone.iterate(${action})`));
  }
  async function* pagesOf(action, args, site) {
    const placed = (e) => {
      if (site !== undefined && e !== null && typeof e === 'object') e.stack = site;
      return e;
    };
    let cursor;
    do {
      let page;
      try {
        page = await invoke(action, cursor ? { ...args, cursor } : args);
      } catch (e) {
        throw placed(e);
      }
      if (!page || !Array.isArray(page.items)) {
        throw placed(new TypeError(`pingone.iterate: ${action} is not a list action (it returned no items)`));
      }
      yield* page.items;
      cursor = page.cursor;
    } while (cursor);
  }

  // A blank argument is the script's slip, told before a call is spent on it; like a
  // call's failure, it rejects rather than throws.
  const blank = (value, what) => (value == null || !String(value).trim() ? Promise.reject(new TypeError(what)) : null);

  const helpers = {
    search: (query, limit) =>
      blank(query, "pingone.search needs a query: what you want to do, e.g. pingone.search('disable a user')") ??
      invoke('__search', { query: String(query), limit }),
    describe: (id) =>
      blank(id, "pingone.describe needs an action id, e.g. pingone.describe('update_user_enabled_status')") ?? invoke('__describe', { id: String(id) }),
    // { msLeft, callsLeft, computeLeftPercent }: a batch job stops in time and returns what is left.
    budget: () => invoke('__budget', {}),
    iterate,
  };

  // `pingone.<action>` for any name: the first use of a name goes through the proxy
  // behind `pingone`, which makes the action's function and fixes it as a read-only
  // property of `pingone`, so later uses are plain property reads. (A proxy trap on
  // every use cost as much as the rest of the call's guest-side work.) The function
  // is native: it checks and serialises the arguments and starts the host call, with
  // the same results as `invoke`.
  const actions = new Proxy(Object.create(null), {
    get(_, name, receiver) {
      if (typeof name !== 'string' || name === 'then') return undefined;
      const call = bindAction(name, PingOneError);
      if (receiver === globalThis.pingone) Object.defineProperty(receiver, name, { value: call, enumerable: true });
      return call;
    },
    set() { throw new TypeError('pingone is read-only'); },
  });
  const pingone = Object.create(actions);
  for (const [name, value] of Object.entries(helpers)) Object.defineProperty(pingone, name, { value, enumerable: true });
  globalThis.pingone = pingone;
  globalThis.PingOneError = PingOneError;

  const show = (v) => {
    if (typeof v === 'string') return v;
    if (v instanceof Error) return `${v.name}: ${v.message}`;
    try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
  };
  // Node's format specifiers in a first string followed by values
  // (`console.log('%s has %d users', name, n)`); `%%` is `%` then, and a specifier with
  // no value left stays as written. Values left over follow, as without specifiers.
  const format = (first, values) => {
    let used = 0;
    const text = first.replace(/%[sdifjoOc%]/g, (spec) => {
      if (spec === '%%') return '%';
      if (used >= values.length) return spec;
      const v = values[used++];
      const number = (read) => (typeof v === 'bigint' && spec !== '%f' ? `${v}n` : typeof v === 'symbol' ? 'NaN' : String(read(v)));
      switch (spec) {
        case '%s': return typeof v === 'bigint' ? `${v}n` : v !== null && typeof v === 'object' ? show(v) : String(v);
        case '%d': return number(Number);
        case '%i': return number(parseInt);
        case '%f': return number(parseFloat);
        case '%c': return '';
        default: return show(v); // %j, %o, %O
      }
    });
    return [text, ...values.slice(used).map(show)].join(' ');
  };
  const line = (values) => (typeof values[0] === 'string' && values.length > 1 ? format(values[0], values.slice(1)) : values.map(show).join(' '));
  const logger = (level) => (...values) => writeLog(level, line(values));
  globalThis.console = {
    log: logger(0), info: logger(1), warn: logger(2), error: logger(3), debug: logger(4),
    // What Node's console also has, written as lines here.
    table: logger(0), dir: logger(0), trace: logger(4),
    assert: (condition, ...values) => {
      if (condition) return;
      if (typeof values[0] === 'string') logger(3)(`Assertion failed: ${values[0]}`, ...values.slice(1));
      else logger(3)('Assertion failed', ...values);
    },
  };

  // A result and console lines are JSON, where a Map, a Set or an Error would be {}:
  // their data would be lost without a word, so they say what they hold. A Map with
  // keys other than strings gives its entries, `[[key, value], …]`, as keys would clash
  // as text. Nested Maps and Sets are converted here, so one that holds itself is the
  // TypeError JSON.stringify throws for a cycle, not endless recursion.
  const giveToJSON = (prototype, toJSON) => Object.defineProperty(prototype, 'toJSON', { value: toJSON, writable: true, configurable: true });
  const plain = (value, holders) => {
    if (!(value instanceof Map || value instanceof Set)) return value;
    if (holders.includes(value)) throw new TypeError('cyclic object value: a Map or Set holds itself');
    holders.push(value);
    const inner = (item) => plain(item, holders);
    let out;
    if (value instanceof Set) out = [...value].map(inner);
    else if ([...value.keys()].every((key) => typeof key === 'string')) out = Object.fromEntries([...value].map(([key, item]) => [key, inner(item)]));
    else out = [...value].map(([key, item]) => [inner(key), inner(item)]);
    holders.pop();
    return out;
  };
  giveToJSON(Map.prototype, function () { return plain(this, []); });
  giveToJSON(Set.prototype, function () { return plain(this, []); });
  // An error's own fields (a status set on it, a PingOneError's code and details) are
  // kept beside its name and message; not its stack.
  giveToJSON(Error.prototype, function () {
    const { stack, ...own } = this;
    const out = { name: this.name, message: this.message, ...own };
    if (this.cause !== undefined) out.cause = this.cause;
    if (Array.isArray(this.errors)) out.errors = this.errors;
    return out;
  });

  // Dates as people and other systems write them, which the engine alone reads as
  // Invalid Date (V8 reads them): a space for the T, 1 to 9 digits of a second, an
  // offset without its colon. They are rewritten to the strict form first. Then, for
  // what the engine still cannot read, the forms people type (`03/10/2024` as month
  // first, `March 10, 2024`, `10 Mar 2024 2:30 PM`, `10-Mar-2024`), read as V8 reads
  // them with the clock at UTC, to the time's number.
  const NativeDate = Date;
  const isoLike = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(:\d{2})?(?:[.,](\d{1,9}))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
  const strictDate = (text) => {
    // The strict form, as PingOne writes its times, goes straight through.
    if (typeof text !== 'string' || (text.length === 24 && text[10] === 'T' && text[23] === 'Z')) return text;
    const m = isoLike.exec(text.trim());
    if (!m) return text;
    const [, day, hoursMinutes, seconds = ':00', fraction = '', zone = ''] = m;
    const offset = zone.length === 3 ? `${zone}:00` : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone.toUpperCase();
    return `${day}T${hoursMinutes}${seconds}.${(fraction + '000').slice(0, 3)}${offset}`;
  };
  // A month is known by its first three letters, as V8 knows it ("Sept", "Marchy").
  const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
  const monthOf = (word) => MONTHS.indexOf(word.slice(0, 3).toLowerCase()) + 1 || NaN;
  const WEEKDAY = String.raw`(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?`;
  const TIME_ZONE = String.raw`(?:[\sT,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?\s*([ap])?\.?m?\.?)?(?:\s*(z|utc|gmt|(?:gmt|utc)?\s*[+-]\d{2}:?\d{2}))?$`;
  const typedForms = [
    // month day year: 03/10/2024, March 10, 2024, Sun Mar 10 2024
    [new RegExp(String.raw`^${WEEKDAY}(\d{1,2})/(\d{1,2})/(\d{4})${TIME_ZONE}`, 'i'), (a, b, y) => [y, +a, b]],
    [new RegExp(String.raw`^${WEEKDAY}([a-z]{3,})\.?\s+(\d{1,2}),?\s+(\d{4})${TIME_ZONE}`, 'i'), (a, b, y) => [y, monthOf(a), b]],
    // year month day: 2024/03/10
    [new RegExp(String.raw`^(\d{4})/(\d{1,2})/(\d{1,2})${TIME_ZONE}`, 'i'), (y, a, b) => [y, +a, b]],
    // day month year: 10 March 2024, 10-Mar-2024
    [new RegExp(String.raw`^${WEEKDAY}(\d{1,2})[\s-]+([a-z]{3,})\.?,?[\s-]+(\d{4})${TIME_ZONE}`, 'i'), (b, a, y) => [y, monthOf(a), b]],
  ];
  const typedDate = (text) => {
    for (const [form, order] of typedForms) {
      const m = form.exec(text.trim());
      if (!m) continue;
      const [year, month, day] = order(m[1], m[2], m[3]);
      const [, , , , h = '0', mi = '0', sec = '0', ms = '0', half, zone] = m;
      if (!(month >= 1 && month <= 12) || +day < 1 || +day > 31 || +h > 24 || (half && (+h < 1 || +h > 12))) return NaN;
      const hours = half ? (+h % 12) + (half.toLowerCase() === 'p' ? 12 : 0) : +h;
      const offset = /\d/.test(zone ?? '') ? zone.replace(/[^+\-\d]/g, '') : '';
      const offsetMinutes = offset ? (offset[0] === '-' ? -1 : 1) * (+offset.slice(1, 3) * 60 + +offset.slice(-2)) : 0;
      return NativeDate.UTC(+year, month - 1, +day, hours, +mi, +sec, +(ms + '00').slice(0, 3)) - offsetMinutes * 60000;
    }
    return NaN;
  };
  const readDate = (text) => {
    const strict = strictDate(text);
    // Only text the engine cannot read is tried against the typed forms.
    if (typeof text !== 'string' || strict !== text || !Number.isNaN(NativeDate.parse(text))) return strict;
    const typed = typedDate(text);
    return Number.isNaN(typed) ? text : typed;
  };
  function LenientDate(...args) {
    if (!new.target) return NativeDate();
    if (args.length === 1) args[0] = readDate(args[0]);
    return Reflect.construct(NativeDate, args, new.target);
  }
  Object.defineProperties(LenientDate, {
    name: { value: 'Date' },
    length: { value: 7 },
    toString: { value: () => 'function Date() { [native code] }', writable: true, configurable: true },
    prototype: { value: NativeDate.prototype },
    parse: { value: (text) => { const read = readDate(text); return typeof read === 'number' ? read : NativeDate.parse(read); }, writable: true, configurable: true },
    UTC: { value: NativeDate.UTC, writable: true, configurable: true },
    now: { value: NativeDate.now, writable: true, configurable: true },
  });
  Object.defineProperty(NativeDate.prototype, 'constructor', { value: LenientDate, writable: true, configurable: true });
  globalThis.Date = LenientDate;

  // `text.split(/\r?\n/)` as the spec's RegExp.prototype[@@split] computes it, but by
  // one global search instead of a sticky match tried at each position, which the
  // engine makes cost the length of the text each time: a 60 KB CSV ran out of compute
  // (review 54 M4), one of 100 KB now takes a few hundred ms.
  const advance = (text, at, unicode) => {
    const code = text.charCodeAt(at);
    return unicode && code >= 0xd800 && code <= 0xdbff && at + 1 < text.length ? at + 2 : at + 1;
  };
  Object.defineProperty(RegExp.prototype, Symbol.split, {
    value: function split(string, limit) {
      const text = String(string);
      const max = limit === undefined ? 0xffffffff : limit >>> 0;
      const flags = String(this.flags).replace(/[gy]/g, '');
      const unicode = /[uv]/.test(flags);
      const search = new RegExp(this, `${flags}g`);
      if (max === 0) return [];
      if (text.length === 0) {
        search.lastIndex = 0;
        const found = search.exec(text);
        return found !== null && found.index === 0 ? [] : [text];
      }
      const out = [];
      let kept = 0; // where the piece after the last separator begins
      let from = 0;
      while (from < text.length) {
        search.lastIndex = from;
        const found = search.exec(text);
        if (found === null || found.index >= text.length) break;
        const end = Math.min(search.lastIndex, text.length);
        // An empty match where the last piece ends splits nothing: look one further.
        if (end === kept) {
          from = advance(text, found.index, unicode);
          continue;
        }
        out.push(text.slice(kept, found.index));
        if (out.length === max) return out;
        for (let i = 1; i < found.length; i++) {
          out.push(found[i]);
          if (out.length === max) return out;
        }
        kept = end;
        from = end;
      }
      out.push(text.slice(kept));
      return out;
    },
    writable: true,
    configurable: true,
  });

  const absent = (name, instead) => () => {
    throw new Error(`${name} is not available in the sandbox: ${instead}`);
  };
  globalThis.fetch = absent('fetch', 'the only way out is a PingOne action, e.g. await pingone.list_users({ limit: 10 })');
  globalThis.require = absent('require', 'there are no modules; everything is on the global `pingone` object');
  globalThis.setTimeout = absent('setTimeout', 'scripts cannot sleep; use await on actions instead');
  globalThis.setInterval = absent('setInterval', 'scripts cannot schedule work');
  // A deep copy of data (objects, arrays, Dates, Maps, Sets, RegExps; shared and
  // circular references kept as such), as structuredClone makes; a function cannot be
  // copied.
  const copy = (value, copies) => {
    if (value === null || typeof value !== 'object') {
      if (typeof value === 'function') throw new TypeError('structuredClone: a function cannot be copied');
      return value;
    }
    if (copies.has(value)) return copies.get(value);
    if (value instanceof NativeDate) return new NativeDate(value.getTime());
    if (value instanceof RegExp) return new RegExp(value.source, value.flags);
    const out = Array.isArray(value) ? [] : value instanceof Map ? new Map() : value instanceof Set ? new Set() : {};
    copies.set(value, out);
    if (value instanceof Map) value.forEach((item, key) => out.set(copy(key, copies), copy(item, copies)));
    else if (value instanceof Set) value.forEach((item) => out.add(copy(item, copies)));
    else for (const key of Object.keys(value)) out[key] = copy(value[key], copies);
    return out;
  };
  globalThis.structuredClone = (value) => copy(value, new Map());
})();
