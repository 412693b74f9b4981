//! The guest module: embedded at build time, pre-initialised with wizer (the boa
//! context and prelude are snapshotted), compiled by Cranelift, and cached on disk
//! so later processes start in milliseconds.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context;
use guest_sdk::abi::IMPORT_MODULE;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, Linker, Module, OptLevel, PoolingAllocationConfig, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::WasiCtxBuilder;

/// The JavaScript guest as `cargo build` left it (see build.rs).
const GUEST_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pingone_js_sandbox.wasm"));
const WASMTIME_VERSION: &str = "48.0.8";
/// Scripts that can run at once in one process; more wait for a slot.
pub const POOL_SLOTS: u32 = 64;

/// Permits for the pool's slots: a script holds one while its store lives, so a
/// burst of scripts queues instead of failing to instantiate.
pub static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(POOL_SLOTS as usize);

/// Guest memory each pool slot keeps mapped between scripts and resets in place
/// (only the pages a script touched, where the kernel can scan for them): a
/// script's first MiBs then cost no page faults. A typical script peaks at ~2 MiB.
const KEEP_RESIDENT: usize = 4 << 20;

/// One engine per process. Compute is metered with fuel (one unit per wasm
/// instruction, roughly): deterministic, unlike a clock, whatever else the machine
/// is doing. Instances come from a pool of reused slots rather than fresh mappings.
pub fn engine() -> anyhow::Result<&'static Engine> {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine);
    }
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(POOL_SLOTS)
        .total_memories(POOL_SLOTS)
        .total_tables(POOL_SLOTS)
        .total_stacks(POOL_SLOTS)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT)
        .pagemap_scan(Enabled::Auto);
    let mut config = Config::new();
    config.consume_fuel(true).memory_init_cow(true).cranelift_opt_level(OptLevel::Speed);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // The pool reserves its address space up front; where that is refused (a
    // tight `ulimit -v`), fresh mappings per script still work, only slower.
    let engine = Engine::new(&config).or_else(|e| {
        tracing::warn!("cannot reserve the sandbox's instance pool ({e}); scripts will map fresh memory each run, which is slower");
        Engine::new(config.allocation_strategy(InstanceAllocationStrategy::OnDemand))
    });
    let engine = engine.map_err(|e| anyhow::anyhow!("cannot configure wasmtime: {e}"))?;
    Ok(ENGINE.get_or_init(|| engine))
}

/// Where compiled modules are cached: `PINGONE_MCP_CACHE`, else
/// `$XDG_CACHE_HOME/pingone-mcp`, else `~/.cache/pingone-mcp`.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("PINGONE_MCP_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("pingone-mcp")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("pingone-mcp")))
        .map(|d| d.join("modules"))
}

/// The compiled, pre-initialised guest: from the cache, or built and cached.
pub async fn load(engine: &Engine) -> anyhow::Result<Module> {
    let key = cache_key(engine);
    let cached = cache_dir().map(|dir| dir.join(format!("js-{key:016x}.cwasm")));
    if let Some(path) = cached.as_deref().filter(|p| p.is_file()) {
        match trusted(path).and_then(|()| deserialize(engine, path)) {
            Ok(module) => return Ok(module),
            Err(e) => tracing::warn!("ignoring the unusable cached module {}: {e:#}", path.display()),
        }
    }
    // Tens of seconds on a small machine, once per cache: say so, or a first start looks hung.
    eprintln!("pingone-mcp: compiling the JavaScript sandbox (once per install; up to a minute)…");
    let started = std::time::Instant::now();
    let snapshot = preinitialise(engine).await?;
    let module = Module::new(engine, &snapshot).map_err(|e| anyhow::anyhow!("cannot compile the guest: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("pingone-mcp: compiled the JavaScript sandbox in {seconds:.0} s");
    if let Some(path) = cached {
        if let Err(e) = store_in_cache(&module, &path) {
            tracing::warn!("cannot cache the compiled guest at {}: {e:#}", path.display());
        }
    }
    Ok(module)
}

/// Identifies a compiled module: the guest's bytes, the ABI, wasmtime and its config.
fn cache_key(engine: &Engine) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    GUEST_WASM.hash(&mut hasher);
    guest_sdk::abi::ABI_VERSION.hash(&mut hasher);
    WASMTIME_VERSION.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.finish()
}

/// A cached module is loaded as native code: only when this user owns it and its
/// directory, nobody else can write either, and it is no symbolic link (a cache
/// pointed at a shared directory must not run what someone else put there).
fn trusted(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    #[allow(unsafe_code)]
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let dir = path.parent().context("cache path has no parent")?;
    for (what, place) in [("file", path), ("directory", dir)] {
        let meta = std::fs::symlink_metadata(place)?;
        if meta.file_type().is_symlink() {
            anyhow::bail!("the cache {what} {} is a symbolic link", place.display());
        }
        if meta.uid() != me || meta.mode() & 0o022 != 0 {
            anyhow::bail!("the cache {what} {} is not this user's alone (owner {}, mode {:o})", place.display(), meta.uid(), meta.mode() & 0o777);
        }
    }
    Ok(())
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, path: &Path) -> anyhow::Result<Module> {
    // SAFETY: the file is one this code compiled and wrote into our own cache
    // directory (atomically, by rename; `trusted` checked that no one else could
    // have), under a key that includes the engine's compatibility hash; wasmtime
    // checks that hash again on load.
    unsafe { Module::deserialize_file(engine, path) }.map_err(|e| anyhow::anyhow!("{e}"))
}

fn store_in_cache(module: &Module, path: &Path) -> anyhow::Result<()> {
    let bytes = module.serialize().map_err(|e| anyhow::anyhow!("{e}"))?;
    let dir = path.parent().context("cache path has no parent")?;
    std::fs::create_dir_all(dir)?;
    // Write then rename, so concurrent processes never read half a file.
    let partial = dir.join(format!(".{}.{}", std::process::id(), uuid::Uuid::new_v4()));
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)?;
    Ok(())
}

/// Runs the guest's `wizer-initialize` (boa context + prelude) and snapshots memory.
async fn preinitialise(engine: &Engine) -> anyhow::Result<Vec<u8>> {
    let mut linker: Linker<WasiP1Ctx> = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, |wasi| wasi)?;
    // The action imports must exist, but initialisation never calls them.
    let unused = || wasmtime::format_err!("host calls are not available during pre-initialisation");
    linker.func_wrap(IMPORT_MODULE, "call_start", move |_: u32, _: u32| -> wasmtime::Result<u32> { Err(unused()) })?;
    linker.func_wrap(IMPORT_MODULE, "call_wait", move || -> wasmtime::Result<u64> { Err(unused()) })?;
    linker.func_wrap(IMPORT_MODULE, "call_read", move |_: u32, _: u32| -> wasmtime::Result<()> { Err(unused()) })?;
    linker.func_wrap(IMPORT_MODULE, "log", move |_: u32, _: u32, _: u32| -> wasmtime::Result<()> { Err(unused()) })?;
    let mut store = Store::new(engine, WasiCtxBuilder::new().build_p1());
    store.set_fuel(u64::MAX).map_err(|e| anyhow::anyhow!("{e}"))?;
    wasmtime_wizer::Wizer::new()
        .run(&mut store, GUEST_WASM, async |store, module| linker.instantiate_async(store, module).await)
        .await
        .map_err(|e| anyhow::anyhow!("cannot pre-initialise the JavaScript guest: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::trusted;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_a_cache_file_this_user_alone_could_write_is_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("js-1.cwasm");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        trusted(&file).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(trusted(&file).unwrap_err().to_string().contains("not this user's alone"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(trusted(&file).unwrap_err().to_string().contains("cache directory"));
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let link = dir.path().join("js-2.cwasm");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(trusted(&link).unwrap_err().to_string().contains("symbolic link"));
    }
}
