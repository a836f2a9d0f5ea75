/*
 * The protocol between the native client (gvshim_client.c) and the gvshim server, C side.
 * src/main/java/dev/gvshim/server/Wire.java is the Java side and says the same; WireTest runs
 * test/wire_test.c against it.
 *
 * AF_UNIX stream frames: u32 payload length (little-endian) | u8 type | payload. Fields: i32
 * little-endian; strings u32 length + UTF-8 bytes (no NUL); lists u32 count + strings.
 * Descriptors travel as SCM_RIGHTS with a frame's first byte; a reader reads exactly the header,
 * then exactly the payload (never ahead: unix(7), the next frame's descriptors would be lost).
 */
#ifndef GVSHIM_WIRE_H
#define GVSHIM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_PROTOCOL 1
#define WIRE_MAX_PAYLOAD (8 << 20)
#define WIRE_MAX_FDS 16

#define WIRE_REQUEST 'R'  /* client: protocol, build id, home, umask, cwd, argv, env + fds 0,1,2,cwd */
#define WIRE_ACCEPTED 'A' /* server: from here on it may act; EOF before = run the call cold */
#define WIRE_COLD 'C'     /* server: reason; run the call in a one-shot JVM */
#define WIRE_SPAWN 'S'    /* server: id, path, argv, env, cwd, flags, stdio[3] + fds */
#define WIRE_EXITED 'E'   /* client: id, kind, wait status or errno */
#define WIRE_EXEC 'X'     /* server: path, argv, env, cwd, n, targets[n], socket target + n fds */
#define WIRE_EXIT 'Q'     /* server: status */
#define WIRE_USERNS_SPAWN 'U' /* server: path, argv, env, user ns, mount ns, stdio[3] + fds */
#define WIRE_SPAWNED 'P'      /* client: pid (0: failed), step, errno */
#define WIRE_CONNECT 'K'      /* API JVM: dir, name; the client: errno (0: connected) + the socket */

/* SPAWNED steps (Wire.USERNS_STEPS) */
#define WIRE_STEP_PDEATHSIG 1
#define WIRE_STEP_SETNS_USER 2
#define WIRE_STEP_SETNS_MNT 3
#define WIRE_STEP_SETPGID 4
#define WIRE_STEP_DUP2 5
#define WIRE_STEP_EXEC 6
#define WIRE_STEP_FORK 7

#define WIRE_SPAWN_FORWARD_SIGNALS 0x1 /* SPAWN flags: the client forwards the signals it receives to the program */

#define WIRE_STDIO_INHERIT (-1) /* SPAWN stdio[i]: the client's own descriptor i */
#define WIRE_STDIO_NULL (-2)    /* SPAWN stdio[i]: /dev/null */
#define WIRE_EXITED_WAITED 0      /* EXITED value: the wait(2) status */
#define WIRE_EXITED_NOT_STARTED 1 /* EXITED value: the errno of posix_spawn or execve */

/* A payload being built; out_* abort on out of memory (the client has nothing to clean up). */
struct wire_out {
	char *p;
	size_t len, cap;
};

void wire_out_i32(struct wire_out *o, int32_t v);
void wire_out_str(struct wire_out *o, const char *s);
void wire_out_strs(struct wire_out *o, char *const *v);
void wire_out_free(struct wire_out *o);

/* Sends a frame in one sendmsg (MSG_NOSIGNAL), fds on its first byte. false: errno says why. */
bool wire_send(int sock, char type, const struct wire_out *payload, const int *fds, int nfds);

/* A frame read; its descriptors are close-on-exec and the reader's to close. */
struct wire_frame {
	char type;
	char *p;
	uint32_t len, off;
	bool bad; /* a field ran past the payload */
	int fds[WIRE_MAX_FDS];
	int nfds;
};

/* 1: a frame; 0: EOF before one; -1: error (errno; EPROTO for a broken frame). Received
 * descriptors are closed on error. */
int wire_read(int sock, struct wire_frame *f);
void wire_frame_free(struct wire_frame *f);

/* Fields of a frame, in order; past the end they return 0 / "" / an empty list and set bad. */
int32_t wire_in_i32(struct wire_frame *f);
char *wire_in_str(struct wire_frame *f);
char **wire_in_strs(struct wire_frame *f);

#endif
