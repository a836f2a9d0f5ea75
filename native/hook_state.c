/*
 * runsc's state of a container (Go's json.Marshal of specs.State: runsc/container/hook.go) read
 * as a JSON object whose keys gvshim needs are strings and a number, and runc's written from it
 * (libcontainer/container_linux.go currentOCIState, v1.1): see gvshim_hook.c.
 */
#include "hook_state.h"

#include <string.h>

/* A token of in: [start, end). */
struct span {
	size_t start, end;
};

static size_t ws(const char *in, size_t n, size_t i)
{
	while (i < n && (in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '\r')) {
		i++;
	}
	return i;
}

/* The end of the string that starts at in[i] == '"' (after its closing quote), or 0 if it has none. */
static size_t string_end(const char *in, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (in[i] == '\\') {
			i++;
		} else if (in[i] == '"') {
			return i + 1;
		}
	}
	return 0;
}

/* The end of the value that starts at in[i] (a string, an object or array with what is in it, a number or literal), or 0. */
static size_t value_end(const char *in, size_t n, size_t i)
{
	if (i >= n) {
		return 0;
	}
	if (in[i] == '"') {
		return string_end(in, n, i);
	}
	if (in[i] == '{' || in[i] == '[') {
		int depth = 0;
		while (i < n) {
			if (in[i] == '"') {
				i = string_end(in, n, i);
				if (i == 0) {
					return 0;
				}
				continue;
			}
			if (in[i] == '{' || in[i] == '[') {
				depth++;
			} else if (in[i] == '}' || in[i] == ']') {
				if (--depth == 0) {
					return i + 1;
				}
			}
			i++;
		}
		return 0;
	}
	size_t s = i;
	while (i < n && in[i] != ',' && in[i] != '}' && in[i] != ' ' && in[i] != '\t' && in[i] != '\n' && in[i] != '\r') {
		i++;
	}
	return i > s ? i : 0;
}

static int is(const char *in, struct span k, const char *name)
{
	size_t len = strlen(name);
	return k.end - k.start == len + 2 && memcmp(in + k.start + 1, name, len) == 0;
}

struct out {
	char *b;
	size_t len, cap;
	int full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->len + n > o->cap) {
		o->full = 1;
		return;
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* s as a JSON string, escaped as Go's encoding/json escapes (encode.go appendString: HTML-safe). */
static void put_string(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	put(o, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			put(o, e, 2);
		} else if (c == '\n') {
			puts_(o, "\\n");
		} else if (c == '\r') {
			puts_(o, "\\r");
		} else if (c == '\t') {
			puts_(o, "\\t");
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			put(o, e, 6);
		} else if (c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
			puts_(o, p[2] == 0xa8 ? "\\u2028" : "\\u2029");
			p += 2;
		} else {
			put(o, (const char *)p, 1);
		}
	}
	put(o, "\"", 1);
}

long hook_state(const char *in, size_t n, const char *id, const char *bundle_arg, const char *annotations, char *outb,
		size_t outcap, const char **why)
{
	struct span version = {0, 0}, status = {0, 0}, pid = {0, 0}, bundle = {0, 0}, ann = {0, 0};
	size_t i = ws(in, n, 0);
	if (i >= n || in[i] != '{') {
		*why = "the container's state on stdin is not a JSON object";
		return -1;
	}
	i = ws(in, n, i + 1);
	while (i < n && in[i] != '}') {
		struct span k = {i, in[i] == '"' ? string_end(in, n, i) : 0};
		if (k.end == 0) {
			*why = "the container's state on stdin is not a JSON object (a key is not a string)";
			return -1;
		}
		i = ws(in, n, k.end);
		if (i >= n || in[i] != ':') {
			*why = "the container's state on stdin is not a JSON object (no ':' after a key)";
			return -1;
		}
		i = ws(in, n, i + 1);
		struct span v = {i, value_end(in, n, i)};
		if (v.end == 0) {
			*why = "the container's state on stdin is not a JSON object (a value ends early)";
			return -1;
		}
		int str = in[v.start] == '"';
		if (is(in, k, "ociVersion") && str) {
			version = v;
		} else if (is(in, k, "status") && str) {
			status = v;
		} else if (is(in, k, "pid") && !str) {
			pid = v;
		} else if (is(in, k, "bundle") && str) {
			bundle = v;
		} else if (is(in, k, "annotations") && in[v.start] == '{') {
			ann = v;
		}
		i = ws(in, n, v.end);
		if (i < n && in[i] == ',') {
			i = ws(in, n, i + 1);
		} else if (i >= n || in[i] != '}') {
			*why = "the container's state on stdin is not a JSON object (no ',' or '}' after a value)";
			return -1;
		}
	}
	if (i >= n) {
		*why = "the container's state on stdin is not a JSON object (it has no end)";
		return -1;
	}
	if (version.end == 0 || status.end == 0 || bundle.end == 0) {
		*why = "the container's state on stdin has no \"ociVersion\", \"status\" or \"bundle\" string";
		return -1;
	}
	/* runc: pid only while the container is not stopped (runsc gives -1 once the sandbox is gone) */
	long p = 0;
	int digits = 0;
	for (size_t j = pid.start; j < pid.end && in[j] >= '0' && in[j] <= '9' && p < 1L << 40; j++, digits++) {
		p = p * 10 + (in[j] - '0');
	}
	int keep_pid = digits > 0 && pid.start + (size_t)digits == pid.end && p > 0
		&& !(status.end - status.start == 9 && memcmp(in + status.start, "\"stopped\"", 9) == 0);
	struct out o = {outb, 0, outcap, 0};
	puts_(&o, "{\"ociVersion\":");
	put(&o, in + version.start, version.end - version.start);
	puts_(&o, ",\"id\":");
	put_string(&o, id);
	puts_(&o, ",\"status\":");
	put(&o, in + status.start, status.end - status.start);
	if (keep_pid) {
		puts_(&o, ",\"pid\":");
		put(&o, in + pid.start, pid.end - pid.start);
	}
	puts_(&o, ",\"bundle\":");
	if (strcmp(bundle_arg, "-") == 0) {
		put(&o, in + bundle.start, bundle.end - bundle.start);
	} else {
		put_string(&o, bundle_arg);
	}
	if (strcmp(annotations, "-") == 0) {
		if (ann.end > ann.start + 2) {
			puts_(&o, ",\"annotations\":");
			put(&o, in + ann.start, ann.end - ann.start);
		}
	} else if (annotations[0] != '\0' && strcmp(annotations, "{}") != 0) {
		size_t len = strlen(annotations);
		if (annotations[0] != '{' || annotations[len - 1] != '}') {
			*why = "its annotations argument is not a JSON object";
			return -1;
		}
		puts_(&o, ",\"annotations\":");
		put(&o, annotations, len);
	}
	puts_(&o, "}");
	if (o.full) {
		*why = "the rewritten state is larger than its buffer";
		return -1;
	}
	return (long)o.len;
}
