package dev.gvshim.container;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Removing a directory tree that other processes may be writing in at the same moment: a
 * container's directory while a concurrent `state` or `ps` runs runsc with its --log file in it
 * (runsc creates and removes runsc-PID.log there), a run directory while its garbage collector
 * runs. A file that vanishes during the walk is what was wanted; a file created after the walk
 * passed makes the directory non-empty, so the walk is repeated a few times. Never follows
 * symlinks (walkFileTree does not by default), never throws: what is left is the caller's
 * leftover, which the next create or garbage collection reports or retries.
 */
final class FileTrees {
    private static final int PASSES = 5;

    private FileTrees() {
    }

    /** Whether the tree at {@code root} is gone (or never was). */
    static boolean delete(Path root) {
        for (int pass = 0; pass < PASSES; pass++) {
            if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
                return true;
            }
            try {
                Files.walkFileTree(root, new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                        Files.deleteIfExists(file);
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path file, IOException exc) {
                        return FileVisitResult.CONTINUE; // gone meanwhile, or unreadable: the next pass sees
                    }

                    @Override
                    public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                        try {
                            Files.deleteIfExists(d);
                        } catch (DirectoryNotEmptyException e) {
                            // something was created after this directory's walk: the next pass takes it
                        }
                        return FileVisitResult.CONTINUE;
                    }
                });
            } catch (IOException | RuntimeException e) {
                // a permission error, or the tree changing under the walk: the next pass retries
            }
        }
        return !Files.exists(root, LinkOption.NOFOLLOW_LINKS);
    }
}
