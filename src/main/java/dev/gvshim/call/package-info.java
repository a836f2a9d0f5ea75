/**
 * One call of gvshim: what the caller brings (environment, working directory, identity, stdio)
 * and the two seams through which the core leaves the JVM: {@link dev.gvshim.call.Processes}
 * (every program the core starts) and {@link dev.gvshim.call.Handover} (the end of
 * {@code gvshim run}: another program takes over the call). {@code Main} builds a
 * {@link dev.gvshim.call.Call} from its own process (the one-shot implementations here); a
 * long-lived server builds one per request. Below the CLI nothing reads the process's own
 * environment, working directory or stdio: it is all in the call.
 */
package dev.gvshim.call;
