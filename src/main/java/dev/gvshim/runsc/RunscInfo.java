package dev.gvshim.runsc;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one runsc binary is and can do, asked once: `runsc --version` (its version and the OCI
 * runtime-spec module it was built with) and `runsc flags` (every global flag with its
 * default), ~25 ms each, run side by side. Defaults that changed between gVisor releases
 * (--platform ptrace → systrap, --overlay2 none → root:self, --directfs absent → true) are read
 * here rather than assumed from a version; {@link RunscChoices} picks gvshim's values from them.
 *
 * @param version the first line of --version without "runsc version " ("0.0~20240729.0",
 *                "release-20240729.0-42-gabcdef123456"), or null when runsc could not say
 * @param spec    the "spec:" line (display only: it names the Go module, not gVisor's age)
 * @param flags   global flag name → its default ("" when it has none); empty when not probed
 */
public record RunscInfo(String version, String spec, Map<String, String> flags) {
    public static final RunscInfo UNKNOWN = new RunscInfo(null, null, Map.of());
    static final String CACHE = "runsc-probe.properties";
    private static final Pattern VERSION = Pattern.compile("(?m)^runsc version (\\S+)\\s*$");
    private static final Pattern SPEC = Pattern.compile("(?m)^spec: (\\S+)\\s*$");
    /** A flag's line in Go's flag.PrintDefaults: two spaces, -NAME, then its type, if any. */
    private static final Pattern FLAG = Pattern.compile("^  -(\\S+)(?: \\S+)?$");
    /** The end of a flag's help text: (default X), a string's quoted. */
    private static final Pattern DEFAULT = Pattern.compile("\\(default (\"[^\"]*\"|[^)]*)\\)\\s*$");

    public RunscInfo {
        flags = Collections.unmodifiableMap(new TreeMap<>(flags));
    }

    /** From the two outputs (either may be null: that half is unknown). */
    public static RunscInfo parse(String versionOutput, String flagsOutput) {
        String v = null;
        String s = null;
        if (versionOutput != null) {
            Matcher m = VERSION.matcher(versionOutput);
            v = m.find() ? m.group(1) : null;
            Matcher sm = SPEC.matcher(versionOutput);
            s = sm.find() ? sm.group(1) : null;
        }
        return new RunscInfo(v, s, flagsOutput == null ? Map.of() : parseFlags(flagsOutput));
    }

    /** `runsc flags` (Go's flag.PrintDefaults: "  -name type" then tab-indented help ending in "(default X)"). */
    static Map<String, String> parseFlags(String out) {
        Map<String, String> flags = new TreeMap<>();
        String current = null;
        for (String line : out.split("\n")) {
            Matcher f = FLAG.matcher(line);
            if (f.matches()) {
                current = f.group(1);
                flags.put(current, "");
            } else if (current != null && line.startsWith("    ")) {
                Matcher d = DEFAULT.matcher(line);
                if (d.find()) {
                    String val = d.group(1);
                    flags.put(current, val.startsWith("\"") ? val.substring(1, val.length() - 1) : val);
                }
            }
        }
        return flags;
    }

    /** The gVisor release (its date), UNKNOWN when the version names none. */
    public RunscRelease release() {
        return version == null ? RunscRelease.UNKNOWN : RunscRelease.parse("runsc version " + version);
    }

    /** Whether `runsc flags` was read: otherwise nothing is known about its flags. */
    public boolean probed() {
        return !flags.isEmpty();
    }

    /** This runsc has the global flag {@code name}. */
    public boolean has(String name) {
        return flags.containsKey(name);
    }

    /** The flag's default ("" without one), or null when this runsc does not have it. */
    public String defaultOf(String name) {
        return flags.get(name);
    }

    /** "0.0~20240729.0 (gVisor 2024-07-29)", or "unknown version". */
    public String label() {
        if (version == null) {
            return "unknown version";
        }
        RunscRelease r = release();
        return version + (r.known() ? " (gVisor " + r.label() + ")" : "");
    }

    /**
     * The probe of {@code runsc}, remembered in {@code cacheDir} (when it exists) under the
     * binary's real path, inode, size and modification time, so that only the first call after
     * runsc changes pays for it. UNKNOWN if runsc cannot be read; a runsc that does not answer
     * gives a half-known record (and is asked again next time).
     */
    public static RunscInfo of(Path runsc, Path cacheDir) {
        String key;
        Path real;
        try {
            real = runsc.toRealPath();
            Object ino = Files.getAttribute(real, "unix:ino");
            key = real + "|" + ino + "|" + Files.size(real) + "|" + Files.getLastModifiedTime(real).toMillis();
        } catch (IOException | RuntimeException e) {
            return UNKNOWN;
        }
        Path cache = cacheDir == null ? null : cacheDir.resolve(CACHE);
        Properties p = new Properties();
        if (cache != null && Files.isRegularFile(cache)) {
            try (InputStream in = Files.newInputStream(cache)) {
                p.load(in);
                String v = p.getProperty(key + "|version");
                String f = p.getProperty(key + "|flags");
                if (v != null && f != null) {
                    return parse(v, f);
                }
            } catch (IOException | RuntimeException e) {
                p.clear(); // rewritten below
            }
        }
        String[] out = ask(runsc);
        RunscInfo info = parse(out[0], out[1]);
        if (cache != null && Files.isDirectory(cacheDir) && info.version() != null && info.probed()) {
            // the entries of an earlier binary at the same path go: an upgraded runsc leaves no stale lines
            p.stringPropertyNames().stream().filter(k -> k.startsWith(real + "|")).forEach(p::remove);
            p.setProperty(key + "|version", out[0]);
            p.setProperty(key + "|flags", out[1]);
            store(p, cacheDir, cache);
        }
        return info;
    }

    private static void store(Properties p, Path dir, Path cache) {
        try {
            Path tmp = Files.createTempFile(dir, "runsc-probe", ".tmp");
            try (var out = Files.newOutputStream(tmp)) {
                p.store(out, "gvshim: runsc --version and runsc flags, by path|inode|size|mtime");
            }
            try {
                Files.move(tmp, cache, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, cache, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            // a cache only
        }
    }

    /** `runsc --version` and `runsc flags`, started together; null for a half that failed. */
    private static String[] ask(Path runsc) {
        Process version = start(runsc, "--version");
        Process flags = start(runsc, "flags");
        return new String[] {finish(version), finish(flags)};
    }

    private static Process start(Path runsc, String arg) {
        try {
            // stdin an empty pipe, not /dev/null: runsc never gets a file of the host's (the runtime's rule);
            // `runsc flags` prints to stderr (Go's flag.PrintDefaults)
            Process p = new ProcessBuilder(runsc.toString(), arg).redirectErrorStream(true).start();
            p.getOutputStream().close();
            return p;
        } catch (IOException e) {
            return null;
        }
    }

    private static String finish(Process p) {
        if (p == null) {
            return null;
        }
        try {
            String out;
            try (InputStream in = p.getInputStream()) {
                out = new String(in.readNBytes(1 << 16), StandardCharsets.UTF_8);
            }
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return p.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
