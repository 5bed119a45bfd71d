// onnxruntime-node's session.run blocks its thread for the whole call, so an interrupt (a signal
// handler, a message from another thread) is only seen between calls: this lets such events run and
// then stops before the next call starts, so interrupt takes effect within the call under way.
export async function stopIfAborted(signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return;
  // An immediate queued now runs after the event loop's next poll, where signals and messages arrive.
  await new Promise((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}
