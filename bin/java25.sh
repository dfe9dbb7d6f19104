# Sourced by rat4j's scripts: exports JAVA_HOME pointing at a JDK 25 or newer, or exits with a one-line hint.
# The machine's default java may be older (17 here), so we never trust PATH blindly.
rat4j_java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
rat4j_find_jdk() {
  local c
  for c in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25* /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    [ -n "$c" ] && [ -x "$c/bin/javac" ] || continue
    local v; v=$(rat4j_java_major "$c")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$c"; return 0; fi
  done
  if command -v javac >/dev/null 2>&1; then
    c=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    local v; v=$(rat4j_java_major "$c")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$c"; return 0; fi
  fi
  return 1
}
if ! JAVA_HOME=$(rat4j_find_jdk); then
  echo "rat4j: error: no JDK 25+ found (looked at \$JAVA_HOME and /usr/lib/jvm); install Temurin 25 or set JAVA_HOME" >&2
  exit 1
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"
# Maven 3.8's bundled Guava calls sun.misc.Unsafe, which JDK 25 warns about on every build; allow it quietly.
case " ${MAVEN_OPTS:-} " in *sun-misc-unsafe-memory-access*) ;; *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;; esac
# Transparent huge pages when the kernel offers them: in virtual machines (this project's Firecracker VMs) a first
# touch of fresh 4 KiB pages costs ~5 s per GiB, with 2 MiB pages ~0.3 s (measured: a JVM pre-touching a 4 GiB heap
# took 19 s without, 1.2 s with). The launchers put RAT4J_THP_OPTS on the java command line.
RAT4J_THP_OPTS=()
if grep -qE '\[(always|madvise)\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
  RAT4J_THP_OPTS=(-XX:+UseTransparentHugePages)
fi
