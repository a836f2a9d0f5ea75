/*
 * Byte relays between a sandbox's pipes and the caller's descriptors, shared by gvshim-waiter
 * (`gvshim run`) and gvshim-nsexec (the runtime verbs).
 *
 * runsc is never given the caller's own stdio: without --rootless it fchown(2)s every stdio file
 * it receives to the sandbox's user (runsc/sandbox/sandbox.go, configureStdios), which turned
 * the host's /dev/null, a root terminal or the caller's files into nobody's; and gVisor writes
 * a regular file it is given at offset 0. runsc gets pipes instead, and these functions copy
 * between them and the caller's descriptors with read(2)/write(2), so that the caller's file
 * offset, O_APPEND and ownership are exactly as if the command had written itself.
 *
 * The caller's descriptors are shared with the caller (same open file description): they are
 * never closed here and never switched to O_NONBLOCK; a caller's descriptor that is already
 * non-blocking is waited on with poll(2) for POLLOUT instead of spinning on EAGAIN.
 */
#ifndef GVSHIM_RELAY_H
#define GVSHIM_RELAY_H

#include <stdbool.h>
#include <stddef.h>

/* One of the caller's output descriptors and what happened to it. */
struct relay_sink {
	int fd;                  /* the caller's descriptor; -1 when it was closed (writes fail with EBADF) */
	const char *name;        /* "stdout" or "stderr", for messages */
	int err;                 /* errno of the first write that failed; 0 while none has */
	unsigned long long lost; /* bytes that were read from the sandbox and never written */
	bool reported;           /* the loss has been reported (gvshim-nsexec's detached relay) */
};

/*
 * write(2)s the n bytes at p to fd: retries EINTR, and on EAGAIN (a caller's non-blocking
 * descriptor) waits in poll(2) for POLLOUT. Returns 0, or the errno of the failure; *done is
 * the number of bytes written either way (may be NULL).
 */
int relay_write_all(int fd, const char *p, size_t n, size_t *done);

/*
 * Writes a chunk to the sink. Once a write has failed, the sink takes nothing more: the
 * failure (errno) and the bytes not written are recorded and false is returned, then and for
 * every later chunk (those bytes are counted as lost too).
 */
bool relay_put(struct relay_sink *s, const char *p, size_t n);

/*
 * Closes *src, the read end of a pipe whose output can no longer be written, so that the
 * writer in the sandbox gets EPIPE (or SIGPIPE), as it would writing to a pipe whose reader
 * has gone. Bytes still queued in the pipe (FIONREAD) are counted as lost.
 */
void relay_drop(struct relay_sink *s, int *src);

/*
 * Whether output was lost in a way to report. EPIPE is not: the caller's reader went away
 * (`gvshim run ... | head -1`), which a command outside a sandbox is not told about either,
 * beyond its own EPIPE/SIGPIPE.
 */
bool relay_lost(const struct relay_sink *s);

/*
 * The one line that says output was lost, for stderr and for a runtime's --log:
 *   gvshim: output was lost [write(stdout): ENOSPC (No space left on device)]: 3904 bytes of
 *   the command's stdout could not be written and it now gets EPIPE. Fix: ... [OUTPUT_LOST]
 * `whose`: "the command's" or "container X's". Returns buf.
 */
char *relay_describe(const struct relay_sink *s, const char *whose, char *buf, size_t size);

/* Whether fd is the character device /dev/null (1:3): a caller's "no input". */
bool relay_is_devnull(int fd);

#endif
