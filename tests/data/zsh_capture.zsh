# zsh -f zsh_capture.zsh DIR LINE: print the completions zsh offers at the end of the command line
# LINE (Tab pressed there), one `<match>` per line, with the completion functions in DIR.
# An interactive zsh in a pty (zsh/zpty) runs the real completion system; compadd is wrapped to
# print what each call adds, between two NUL markers.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -d ${(q)TMPDIR:-/tmp}/zcompdump-\$\$"
zpty -w z "zstyle ':completion:*' list-grouped false; zstyle ':completion:*' insert-tab false"
# compadd -A only collects, so zsh sees no match added and _files would go on to its last resort,
# all files; zsh's default file-patterns without that fallback keep what a user is offered.
zpty -w z "zstyle ':completion:*' file-patterns '%p:globbed-files *(-/):directories'"
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits; builtin compadd -A __hits "$@"; local ret=$?
  (( $#__hits )) && print -rl -- "<"${^__hits}">"
  return $ret
}'
zpty -w z "bindkey '^I' complete-word"
zpty -w z "null-line () { echo -E - \$'\\0' }"
zpty -w z "compprefuncs=( null-line ); comppostfuncs=( null-line exit )"
zpty -w -n z "$2"$'\t'
local out='' chunk
# Blocking reads until the second NUL (the caller's timeout bounds a completion that never ends).
while zpty -r z chunk; do
  out+=$chunk
  [[ $out == *$'\0'*$'\0'* ]] && break
done
out=${${out#*$'\0'}%%$'\0'*}
print -rl -- ${${(M)${(f)out}:#\<*\>*}}
zpty -d z
