/* runsc's state of a container rewritten as runc gives it to a hook (gvshim_hook.c --oci-state). */
#ifndef GVSHIM_HOOK_STATE_H
#define GVSHIM_HOOK_STATE_H

#include <stddef.h>

/* The most of runsc's state gvshim-hook reads (runsc's own is a few hundred bytes plus the annotations). */
#define HOOK_STATE_MAX ((size_t)16 << 20)

/*
 * Writes runc's state into out (outcap bytes; in's length plus 6 per byte of id and bundle plus
 * annotations' length plus 128 always suffice) from runsc's (in, n bytes), with the caller's id,
 * bundle ("-": runsc's) and annotations (a JSON object; "": none; "-": runsc's): the length
 * written, or -1 with *why set to a phrase.
 */
long hook_state(const char *in, size_t n, const char *id, const char *bundle, const char *annotations, char *out,
		size_t outcap, const char **why);

#endif
