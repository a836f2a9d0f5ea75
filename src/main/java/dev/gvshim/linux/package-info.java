/**
 * FFM only: system calls, errno capture and the clone(2) spawner. Imports nothing from the
 * rest of gvshim.
 */
package dev.gvshim.linux;
