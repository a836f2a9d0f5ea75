/**
 * The bottom layer every other may use: exit statuses, versions, the one failure type
 * ({@link dev.gvshim.failure.Failure}, one id per condition) and the one exception that carries
 * it to the CLI's sink ({@link dev.gvshim.failure.GvshimException}). Imports nothing from the
 * rest of gvshim.
 */
package dev.gvshim.failure;
