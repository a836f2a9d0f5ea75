/**
 * The Linux interface, and nothing of gvshim's: system calls behind {@link dev.gvshim.linux.Syscalls}
 * (FFM, errno captured per call, the clone(2) spawner), the kernel's text files parsed
 * ({@code /proc/PID/status}, {@code /proc/PID/stat}) and file attributes as messages show them.
 * Imports nothing from the rest of gvshim.
 */
package dev.gvshim.linux;
