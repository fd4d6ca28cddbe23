# The README's examples as tests read them: a ```sh block under a heading, each command with the
# `#>` answer lines under it. Shared by the newcomer walk-through and the compose tests.
# Sourced; README must name the README file.

# The lines of the first ```sh block after the heading that starts with "## TITLE".
readme_block() {
  awk -v title="$1" '
    index($0, "## " title) && !seen { seen = 1; next }
    seen && /^```sh/ { inside = 1; next }
    inside && /^```/ { exit }
    inside { print }' "$README"
}

# A README answer line as a bash pattern: "..." stands for anything, everything else is literal.
pattern_of() {
  local p=$1
  p=${p//\\/\\\\}
  p=${p//\*/\\*}
  p=${p//\?/\\?}
  p=${p//\[/\\[}
  p=${p//.../*}
  printf '%s' "$p"
}

# Every expected line matches a line of the output, in order (other output lines may come between).
answers_match() {  # answers_match OUTPUT EXPECTED (both newline-separated)
  local out=$1 expected=$2 want line p i=0
  local -a lines
  mapfile -t lines <<<"${out//$'\r'/}"
  while IFS= read -r want; do
    p=$(pattern_of "$want")
    while [ $i -lt ${#lines[@]} ]; do
      line=${lines[i]}
      i=$((i + 1))
      # shellcheck disable=SC2053  # the right side is a pattern on purpose
      [[ $line == $p ]] && continue 2
    done
    return 1
  done <<<"$expected"
  return 0
}

# readme_examples TITLE CALLBACK: CALLBACK COMMAND EXPECTED for every command of the block under
# TITLE; README_EXAMPLES then says how many there were.
readme_examples() {
  local title=$1 callback=$2 line cmd="" expected="" count=0
  while IFS= read -r line; do
    case $line in
      "#> "*) expected+="${expected:+$'\n'}${line#\#> }" ;;
      "#"* | "")
        [ -n "$cmd" ] && { "$callback" "$cmd" "$expected"; count=$((count + 1)); }
        cmd="" expected=""
        ;;
      *)
        [ -n "$cmd" ] && { "$callback" "$cmd" "$expected"; count=$((count + 1)); }
        cmd=$line expected=""
        ;;
    esac
  done < <(readme_block "$title")
  [ -n "$cmd" ] && { "$callback" "$cmd" "$expected"; count=$((count + 1)); }
  README_EXAMPLES=$count
}
