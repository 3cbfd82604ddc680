//! Functions that cross the process boundary as code addresses — the only
//! `unsafe` code of the crate.
//!
//! A worker runs the same executable as its parent, so a function sits at
//! the same distance from any other function of the binary in both
//! processes, whatever address the loader chose for the image (ASLR moves
//! the image as a whole). The parent sends that distance — the *offset*
//! from [`anchor`] — and the worker adds it to its own `anchor`.
//!
//! Each call names two functions: the user's `fn(A) -> R`, and the
//! [`trampoline`] monomorphised for `A` and `R`, which decodes the argument,
//! calls the function and encodes the result. A [`batch`] call pairs the
//! user's function with [`batch_trampoline`], which applies it to every
//! item of a decoded `Vec<A>` (a chunk of `Pool::map`); a [`star_batch`]
//! call pairs a `fn(A, B) -> R` with [`star_batch_trampoline`]. The worker only ever calls a
//! trampoline, through the one signature [`Trampoline`]; the trampoline
//! checks the call's type fingerprint against its own before it turns the
//! user's offset into a `fn(A) -> R`.
//!
//! # The invariant
//!
//! [`run`] is sound only in a worker whose parent passed the handshake
//! (same executable, same code layout; see `handshake.rs`) and with offsets
//! that the parent made with [`function_offset`] and [`trampoline_offset`].
//! The worker loop (`serve.rs`) calls it only after the parent accepted its
//! `Hello` frame, and only with calls built by `Call::new`. That is why this
//! module is private and why nothing else in the crate may build offsets.

use std::any::{TypeId, type_name};
use std::cell::Cell;
use std::hash::{Hash, Hasher};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// What every trampoline looks like: `(type fingerprint, function offset,
/// postcard argument, output buffer)`. On success the postcard result has
/// been appended to the buffer.
pub(crate) type Trampoline = fn(u64, u64, &[u8], &mut Vec<u8>) -> Result<(), CallFailure>;

/// Why a trampoline produced no result (a panic unwinds instead).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CallFailure {
    /// The call's fingerprint is not the trampoline's: the parent paired a
    /// function with the wrong trampoline. Nothing was run.
    TypeMismatch(String),
    /// The argument could not be decoded as `A`. Nothing was run.
    Argument(String),
    /// The function returned, but its result could not be encoded.
    Result(String),
}

/// What a call names: its trampoline, its function and the fingerprint
/// that ties them together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) trampoline: u64,
    pub(crate) function: u64,
    pub(crate) fingerprint: u64,
}

/// Marks the fingerprint of a batch call, so that it differs from a call
/// of the same function on one item.
struct Batch<F>(F);

/// A call of `f` on one argument.
pub(crate) fn single<A, R>(f: fn(A) -> R) -> Target
where
    A: DeserializeOwned + 'static,
    R: Serialize + 'static,
{
    Target {
        trampoline: trampoline_offset::<A, R>(),
        function: function_offset(f),
        fingerprint: fingerprint::<A, R>(),
    }
}

/// A call of `f` on every item of a `Vec<A>`.
pub(crate) fn batch<A, R>(f: fn(A) -> R) -> Target
where
    A: DeserializeOwned + 'static,
    R: Serialize + 'static,
{
    Target {
        trampoline: offset_of(batch_trampoline::<A, R> as Trampoline as *const ()),
        function: function_offset(f),
        fingerprint: fingerprint_of::<Batch<fn(A) -> R>>(),
    }
}

/// A call of the two-argument `f` on every pair of a `Vec<(A, B)>`.
pub(crate) fn star_batch<A, B, R>(f: fn(A, B) -> R) -> Target
where
    A: DeserializeOwned + 'static,
    B: DeserializeOwned + 'static,
    R: Serialize + 'static,
{
    Target {
        trampoline: offset_of(star_batch_trampoline::<A, B, R> as Trampoline as *const ()),
        function: offset_of(f as *const ()),
        fingerprint: fingerprint_of::<Batch<fn(A, B) -> R>>(),
    }
}

/// The fixed point offsets are measured from. Never inlined, so it has an
/// address of its own in the executable.
#[inline(never)]
fn anchor() {}

fn anchor_address() -> *const () {
    anchor as fn() as *const ()
}

fn offset_of(address: *const ()) -> u64 {
    (address as usize).wrapping_sub(anchor_address() as usize) as u64
}

/// The address `offset` bytes from the anchor, keeping the anchor's
/// provenance.
fn address_at(offset: u64) -> *const () {
    anchor_address().wrapping_byte_add(offset as usize)
}

/// Where `f` lies relative to the anchor, in this executable.
pub(crate) fn function_offset<A, R>(f: fn(A) -> R) -> u64 {
    offset_of(f as *const ())
}

/// Where the trampoline for `fn(A) -> R` lies relative to the anchor.
pub(crate) fn trampoline_offset<A, R>() -> u64
where
    A: DeserializeOwned + 'static,
    R: Serialize + 'static,
{
    offset_of(trampoline::<A, R> as Trampoline as *const ())
}

/// A fingerprint of the type `fn(A) -> R`: FNV-1a over its `type_name` and
/// its `TypeId`, both fixed for a given executable.
pub(crate) fn fingerprint<A: 'static, R: 'static>() -> u64 {
    fingerprint_of::<fn(A) -> R>()
}

/// A fingerprint of the type `T`, as [`fingerprint`].
fn fingerprint_of<T: ?Sized + 'static>() -> u64 {
    let mut h = Fnv1a::default();
    type_name::<T>().hash(&mut h);
    TypeId::of::<T>().hash(&mut h);
    h.finish()
}

/// A fingerprint of this executable's code layout, exchanged in the
/// handshake: the offset from the anchor of a function of another crate
/// (`corun_core::panic::message`), which differs between builds that differ
/// in the code laid out between them.
pub(crate) fn layout_fingerprint() -> u64 {
    offset_of(corun_core::panic::message as fn(&(dyn std::any::Any + Send)) -> String as *const ())
}

/// Runs one call: the trampoline at `trampoline` for the function at
/// `function`, with the postcard argument `args`, appending the postcard
/// result to `out`. A panic of the function unwinds out of here.
///
/// See the module docs for the invariant that makes this sound.
pub(crate) fn run(
    trampoline: u64,
    fingerprint: u64,
    function: u64,
    args: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CallFailure> {
    // SAFETY: by the module invariant, this process runs the same
    // executable as the parent that computed `trampoline` with
    // `trampoline_offset`, so `address_at(trampoline)` is the address of a
    // monomorphised `trampoline::<A, R>` in this process, which has the
    // signature `Trampoline`. A data pointer and a function pointer have the
    // same size and representation on every platform this crate builds for.
    let trampoline: Trampoline =
        unsafe { std::mem::transmute::<*const (), Trampoline>(address_at(trampoline)) };
    trampoline(fingerprint, function, args, out)
}

/// Decodes an `A`, calls the `fn(A) -> R` at `function`, encodes the `R`.
fn trampoline<A, R>(
    call_fingerprint: u64,
    function: u64,
    args: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CallFailure>
where
    A: DeserializeOwned + 'static,
    R: Serialize + 'static,
{
    check_fingerprint::<fn(A) -> R>(call_fingerprint, "")?;
    // SAFETY: by the module invariant `function` was computed by
    // `function_offset` from a `fn(A') -> R'` in the same executable, with
    // this trampoline's offset computed for the same `A'` and `R'` (both are
    // taken from one generic call in `Call::new`). The fingerprints of
    // `fn(A') -> R'` and `fn(A) -> R` are equal, and they include the
    // `TypeId`s, so `A' = A` and `R' = R` (up to a 64-bit hash collision,
    // which the handshake's identity check makes moot: offsets never come
    // from anywhere but this crate). So the address is a `fn(A) -> R`.
    let f = unsafe { std::mem::transmute::<*const (), fn(A) -> R>(address_at(function)) };
    let arg: A = decode(args)?;
    encode(&f(arg), out)
}

/// Decodes a `Vec<A>`, calls the `fn(A) -> R` at `function` on each item,
/// encodes the `Vec<R>`.
fn batch_trampoline<A, R>(
    call_fingerprint: u64,
    function: u64,
    args: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CallFailure>
where
    A: DeserializeOwned + 'static,
    R: Serialize + 'static,
{
    check_fingerprint::<Batch<fn(A) -> R>>(call_fingerprint, "a batch of ")?;
    // SAFETY: as in `trampoline`: `function` and this trampoline's offset
    // were computed together by `batch::<A', R'>` from a `fn(A') -> R'`,
    // and the fingerprint (which includes the `TypeId` of
    // `Batch<fn(A') -> R'>`) matched, so `A' = A`, `R' = R`.
    let f = unsafe { std::mem::transmute::<*const (), fn(A) -> R>(address_at(function)) };
    let items: Vec<A> = decode(args)?;
    encode_mapped(items, f, out)
}

/// Decodes a `Vec<(A, B)>`, calls the `fn(A, B) -> R` at `function` on each
/// pair, encodes the `Vec<R>`.
fn star_batch_trampoline<A, B, R>(
    call_fingerprint: u64,
    function: u64,
    args: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CallFailure>
where
    A: DeserializeOwned + 'static,
    B: DeserializeOwned + 'static,
    R: Serialize + 'static,
{
    check_fingerprint::<Batch<fn(A, B) -> R>>(call_fingerprint, "a batch of ")?;
    // SAFETY: as in `batch_trampoline`, for `star_batch::<A, B, R>` and a
    // `fn(A, B) -> R`.
    let f = unsafe { std::mem::transmute::<*const (), fn(A, B) -> R>(address_at(function)) };
    let items: Vec<(A, B)> = decode(args)?;
    encode_mapped(items, |(a, b)| f(a, b), out)
}

/// Refuses a call whose fingerprint is not that of `T` (the trampoline's
/// own), before anything is run; `what` prefixes the type in the message.
fn check_fingerprint<T: ?Sized + 'static>(
    call_fingerprint: u64,
    what: &str,
) -> Result<(), CallFailure> {
    if call_fingerprint == fingerprint_of::<T>() {
        return Ok(());
    }
    Err(CallFailure::TypeMismatch(format!(
        "the call's type fingerprint does not match {what}`{}`",
        type_name::<T>()
    )))
}

/// Decodes a call's argument.
fn decode<T: DeserializeOwned>(args: &[u8]) -> Result<T, CallFailure> {
    postcard::from_bytes(args).map_err(|e| CallFailure::Argument(e.to_string()))
}

/// Appends the encoded `value` to `out`.
fn encode<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), CallFailure> {
    *out =
        crate::crossing::fd_passing::encoding(|| postcard::to_extend(value, std::mem::take(out)))
            .map_err(CallFailure::Result)?;
    Ok(())
}

/// Applies `f` to each item and appends the results to `out` as one
/// postcard sequence, encoding each result as it is made: no `Vec<R>` is
/// built and read again. A panic in `f` unwinds out of here (the caller
/// discards `out`).
fn encode_mapped<T, R>(
    items: Vec<T>,
    f: impl FnMut(T) -> R,
    out: &mut Vec<u8>,
) -> Result<(), CallFailure>
where
    R: Serialize,
{
    /// Serialises as the sequence of `f`'s results, once.
    struct Mapped<T, F>(Cell<Option<(Vec<T>, F)>>);

    impl<T, R: Serialize, F: FnMut(T) -> R> Serialize for Mapped<T, F> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let (items, f) = self
                .0
                .take()
                .ok_or_else(|| serde::ser::Error::custom("a batch is encoded once"))?;
            serializer.collect_seq(items.into_iter().map(f))
        }
    }

    encode(&Mapped(Cell::new(Some((items, f)))), out)
}

/// 64-bit FNV-1a: tiny, deterministic across processes (unlike std's
/// randomly keyed hasher).
pub(crate) struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(x: u64) -> u64 {
        x * 2
    }

    fn greet(name: String) -> String {
        format!("hello {name}")
    }

    fn call<A, R>(f: fn(A) -> R, arg: &A) -> Result<Vec<u8>, CallFailure>
    where
        A: Serialize + DeserializeOwned + 'static,
        R: Serialize + 'static,
    {
        let args = postcard::to_stdvec(arg).unwrap();
        let mut out = Vec::new();
        run(
            trampoline_offset::<A, R>(),
            fingerprint::<A, R>(),
            function_offset(f),
            &args,
            &mut out,
        )?;
        Ok(out)
    }

    // Checks that a call made from offsets, in the same process, runs the
    // function and encodes its result.
    #[test]
    fn offsets_round_trip_in_process() {
        let out = call(double, &21).unwrap();
        assert_eq!(postcard::from_bytes::<u64>(&out).unwrap(), 42);
        let out = call(greet, &"corun".to_owned()).unwrap();
        assert_eq!(postcard::from_bytes::<String>(&out).unwrap(), "hello corun");
    }

    // Checks that a fingerprint for other types is refused before the
    // function is touched.
    #[test]
    fn wrong_fingerprint_is_refused() {
        let mut out = Vec::new();
        let err = run(
            trampoline_offset::<u64, u64>(),
            fingerprint::<String, String>(),
            function_offset(double),
            &[42],
            &mut out,
        )
        .unwrap_err();
        assert!(matches!(err, CallFailure::TypeMismatch(m) if m.contains("u64")));
    }

    // Checks that an argument that does not decode is reported, unrun.
    #[test]
    fn undecodable_argument_is_reported() {
        let mut out = Vec::new();
        let err = run(
            trampoline_offset::<String, String>(),
            fingerprint::<String, String>(),
            function_offset(greet),
            &[5, b'a'],
            &mut out,
        )
        .unwrap_err();
        assert!(matches!(err, CallFailure::Argument(_)));
    }

    fn add(a: u64, b: u64) -> u64 {
        a + b
    }

    fn run_target<T: Serialize + ?Sized>(target: Target, arg: &T) -> Result<Vec<u8>, CallFailure> {
        let args = postcard::to_stdvec(arg).unwrap();
        let mut out = Vec::new();
        run(
            target.trampoline,
            target.fingerprint,
            target.function,
            &args,
            &mut out,
        )?;
        Ok(out)
    }

    // Checks that batch calls apply the function to every item, in order.
    #[test]
    fn batches_round_trip_in_process() {
        let out = run_target(batch(double), &[1_u64, 2, 3][..]).unwrap();
        assert_eq!(postcard::from_bytes::<Vec<u64>>(&out).unwrap(), [2, 4, 6]);
        let out = run_target(star_batch(add), &[(1_u64, 2_u64), (3, 4)][..]).unwrap();
        assert_eq!(postcard::from_bytes::<Vec<u64>>(&out).unwrap(), [3, 7]);
    }

    // Checks that a batch trampoline refuses a single call's fingerprint,
    // and the other way round.
    #[test]
    fn batch_and_single_fingerprints_differ() {
        let mut mixed = batch(double);
        mixed.fingerprint = single(double).fingerprint;
        assert!(matches!(
            run_target(mixed, &[1_u64][..]),
            Err(CallFailure::TypeMismatch(_))
        ));
        let mut mixed = single(double);
        mixed.fingerprint = batch(double).fingerprint;
        assert!(matches!(
            run_target(mixed, &1_u64),
            Err(CallFailure::TypeMismatch(_))
        ));
    }

    // Checks that fingerprints tell types apart and are stable.
    #[test]
    fn fingerprints_differ_by_type() {
        assert_eq!(fingerprint::<u64, u64>(), fingerprint::<u64, u64>());
        assert_ne!(fingerprint::<u64, u64>(), fingerprint::<u64, u32>());
        assert_ne!(fingerprint::<u64, u64>(), fingerprint::<(u64,), u64>());
        assert_ne!(layout_fingerprint(), 0);
    }
}
