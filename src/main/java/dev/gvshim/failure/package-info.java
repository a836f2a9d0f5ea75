/**
 * The bottom layer every other may use: exit statuses, versions and (after the error types
 * are unified) the one failure type and its ids. Imports nothing from the rest of gvshim.
 */
package dev.gvshim.failure;
