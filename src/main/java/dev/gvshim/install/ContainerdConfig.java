package dev.gvshim.install;

import dev.gvshim.failure.Exit;
import dev.gvshim.failure.GvshimException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Registers a runtime for containerd's CRI plugin (what kubelet uses) in {@code config.toml},
 * as text: gvshim's lines live between a BEGIN and an END comment, appended to the file once
 * and replaced in place afterwards. No TOML library: the edit appends whole tables, which is
 * valid TOML wherever they go as long as no other table defines the same key, and that is
 * checked. containerd runs the runtime through its runc shim ({@code io.containerd.runc.v2})
 * with {@code BinaryName}, exactly as it runs runc.
 */
public final class ContainerdConfig {
    /** containerd 1.6 and 1.7 (config version 2) and 2.x (version 3) spell the CRI plugin differently. */
    private static final String PLUGIN_V2 = "plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.";
    private static final String PLUGIN_V3 = "plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.";
    /** A top-level {@code version = N}; containerd reads a file without one as the old version 1. */
    private static final Pattern VERSION = Pattern.compile("\\s*version\\s*=\\s*(\\d+)\\s*(#.*)?");
    private static final Pattern HEADER = Pattern.compile("\\s*\\[\\[?([^\\]]+)\\]\\]?\\s*(#.*)?");
    private static final Pattern BINARY_NAME = Pattern.compile("\\s*BinaryName\\s*=\\s*\"(.*)\"\\s*");
    private static final Pattern DISABLED = Pattern.compile("\\s*disabled_plugins\\s*=\\s*\\[([^\\]]*)\\].*");

    /** The file's content afterwards (the original when unchanged) and warnings about the rest of the file. */
    public record Result(Change change, String content, List<String> warnings) {
    }

    private ContainerdConfig() {
    }

    /** The tables for config version {@code version} (2: containerd 1.6/1.7, 3: containerd 2.x). */
    public static String snippet(RuntimeEntry rt, int version) {
        String table = (version >= 3 ? PLUGIN_V3 : PLUGIN_V2) + rt.name();
        return "[" + table + "]\n"
                + "  runtime_type = \"io.containerd.runc.v2\"\n"
                + "[" + table + ".options]\n"
                + "  BinaryName = " + basicString(rt.path()) + "\n";
    }

    /** containerd's runc shim options have a BinaryName but no arguments (runc's options.proto). */
    public static void requireNoArgs(RuntimeEntry rt) throws GvshimException {
        if (!rt.args().isEmpty()) {
            throw InstallFailure.args("containerd's runc shim passes no runtime arguments; put runtime settings in"
                    + " /etc/gvshim/config.json instead (e.g. {\"network\": \"host\"}) and drop --runtime-arg", Exit.RUNTIME);
        }
    }

    static String begin(String name) {
        return "# BEGIN gvshim runtime " + name + " (written by `gvshim install --containerd`; it replaces these lines)";
    }

    static String end(String name) {
        return "# END gvshim runtime " + name;
    }

    /**
     * @param original the file's text, or null when it does not exist (then it is created for version 2)
     * @param file     the file's name, for messages
     */
    public static Result register(String original, String file, RuntimeEntry rt) throws GvshimException {
        requireNoArgs(rt);
        if (original == null || original.isBlank()) {
            String content = "version = 2\n\n" + block(rt, 2);
            return new Result(original == null ? Change.CREATED : Change.ADDED, content, List.of());
        }
        List<String> lines = original.lines().toList();
        int version = version(lines, file);
        String block = block(rt, version);
        List<String> warnings = new ArrayList<>();
        disabledCri(lines, file).ifPresent(warnings::add);
        int b = lines.indexOf(begin(rt.name()));
        int e = lines.indexOf(end(rt.name()));
        if (b < 0 && e < 0) {
            checkNotDefined(lines, file, rt.name(), version);
            String sep = original.endsWith("\n") ? "\n" : "\n\n";
            return new Result(Change.ADDED, original + sep + block, warnings);
        }
        if (b < 0 || e < b) {
            throw InstallFailure.config(file + ": gvshim's lines for runtime " + rt.name() + " are damaged (line "
                    + (b < 0 ? e + 1 : b + 1) + " has a BEGIN or END comment without its partner); restore both comments"
                    + " or remove the lines, then run gvshim install again (nothing was changed)");
        }
        String current = String.join("\n", lines.subList(b, e + 1)) + "\n";
        if (current.equals(block)) {
            return new Result(Change.UNCHANGED, original, warnings);
        }
        StringBuilder out = new StringBuilder();
        lines.subList(0, b).forEach(l -> out.append(l).append('\n'));
        out.append(block);
        lines.subList(e + 1, lines.size()).forEach(l -> out.append(l).append('\n'));
        return new Result(Change.REPLACED, out.toString(), warnings);
    }

    /**
     * config.toml as {@link Unregister} sees it, for the runtime {@code name}: gvshim's lines
     * between its BEGIN and END comments, nothing else (a table written by hand is the user's).
     */
    public static Unregister.Format format(String file, String name) {
        return new Unregister.Format() {
            @Override
            public RuntimeEntry entry(byte[] content) throws GvshimException {
                List<String> lines = text(content).lines().toList();
                int[] be = ours(lines, file, name);
                if (be == null) {
                    return null;
                }
                String path = "";
                for (String l : lines.subList(be[0], be[1])) {
                    Matcher m = BINARY_NAME.matcher(l);
                    if (m.matches()) {
                        path = unquote(m.group(1));
                    }
                }
                return new RuntimeEntry(name, path, List.of());
            }

            @Override
            public byte[] register(byte[] original, RuntimeEntry rt) throws GvshimException {
                return ContainerdConfig.register(original == null ? null : text(original), file, rt).content()
                        .getBytes(StandardCharsets.UTF_8);
            }

            @Override
            public byte[] remove(byte[] content) throws GvshimException {
                String text = text(content);
                List<String> lines = new ArrayList<>(text.lines().toList());
                int[] be = ours(lines, file, name);
                int from = be[0];
                boolean last = be[1] == lines.size() - 1;
                // the blank line install put before its lines, when nothing but a blank line or the end follows them
                if (from > 0 && lines.get(from - 1).isBlank() && (last || lines.get(be[1] + 1).isBlank())) {
                    from--;
                }
                lines.subList(from, be[1] + 1).clear();
                String out = String.join("\n", lines);
                return (lines.isEmpty() || !text.endsWith("\n") ? out : out + "\n").getBytes(StandardCharsets.UTF_8);
            }
        };
    }

    private static String text(byte[] content) {
        return new String(content, StandardCharsets.UTF_8);
    }

    /** The lines of gvshim's BEGIN and END comments for {@code name}, or null when there are none. */
    private static int[] ours(List<String> lines, String file, String name) throws GvshimException {
        int b = lines.indexOf(begin(name));
        int e = lines.indexOf(end(name));
        if (b < 0 && e < 0) {
            return null;
        }
        if (b < 0 || e < b) {
            throw InstallFailure.config(file + ": gvshim's lines for runtime " + name + " are damaged (line "
                    + (b < 0 ? e + 1 : b + 1) + " has a BEGIN or END comment without its partner); remove them by hand"
                    + " (nothing was changed)");
        }
        return new int[] {b, e};
    }

    /** The inverse of {@link #basicString}. */
    private static String unquote(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                if (n == 'u' && i + 4 < s.length()) {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                } else {
                    b.append(n);
                }
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static String block(RuntimeEntry rt, int version) {
        return begin(rt.name()) + "\n" + snippet(rt, version) + end(rt.name()) + "\n";
    }

    private static int version(List<String> lines, String file) throws GvshimException {
        for (String l : lines) {
            if (HEADER.matcher(l).matches()) {
                break; // only a top-level key is the file's version
            }
            Matcher m = VERSION.matcher(l);
            if (m.matches()) {
                int v = Integer.parseInt(m.group(1));
                if (v == 2 || v == 3) {
                    return v;
                }
                throw InstallFailure.config(file + " is containerd config version " + v + "; gvshim writes versions 2"
                        + " (containerd 1.6, 1.7) and 3 (containerd 2.x): migrate it with `containerd config migrate`"
                        + " (containerd >= 1.7) or add the tables of `gvshim install --containerd` by hand");
            }
        }
        // containerd 1.6.20 silently ignores a version-2 table in such a file (`config dump` shows no runtime)
        throw InstallFailure.config(file + " has no top-level `version = 2` line, so containerd reads it as the old"
                + " version 1 format, where the CRI plugin is spelled differently: add `version = 2` as its first line"
                + " (converting [plugins.cri] tables to [plugins.\"io.containerd.grpc.v1.cri\"]), then run gvshim"
                + " install again (nothing was changed)");
    }

    /**
     * A second definition of the same table makes the whole file invalid TOML: containerd 1.6.20
     * then refuses to start ({@code failed to load TOML: config.toml: (17, 2): duplicated tables},
     * seen with {@code containerd --config F config dump}).
     */
    private static void checkNotDefined(List<String> lines, String file, String name, int version) throws GvshimException {
        String ours = normalise((version >= 3 ? PLUGIN_V3 : PLUGIN_V2) + name);
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = HEADER.matcher(lines.get(i));
            if (m.matches()) {
                String key = normalise(m.group(1));
                if (key.equals(ours) || key.startsWith(ours + ".")) {
                    throw InstallFailure.config(file + " already defines runtime " + name + " at line " + (i + 1)
                            + " (" + lines.get(i).strip() + "); remove that table and its options, or choose another"
                            + " --name (nothing was changed)");
                }
            }
        }
    }

    /** Docker's containerd.io package ships {@code disabled_plugins = ["cri"]}: then no kubelet reaches the runtime. */
    private static java.util.Optional<String> disabledCri(List<String> lines, String file) {
        for (String l : lines) {
            if (HEADER.matcher(l).matches()) {
                break;
            }
            Matcher m = DISABLED.matcher(l);
            if (m.matches() && m.group(1).matches(".*[\"'](cri|io\\.containerd\\.grpc\\.v1\\.cri)[\"'].*")) {
                return java.util.Optional.of(file + " disables the CRI plugin (" + l.strip() + "): kubelet and crictl"
                        + " cannot use any runtime until \"cri\" is removed from disabled_plugins");
            }
        }
        return java.util.Optional.empty();
    }

    /** A table key without quotes and spaces: {@code plugins."a.b" . c} and {@code plugins.'a.b'.c} compare equal. */
    private static String normalise(String key) {
        return key.replaceAll("[\"'\\s]", "");
    }

    /** A TOML basic string. */
    private static String basicString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        b.append(String.format("\\u%04X", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
