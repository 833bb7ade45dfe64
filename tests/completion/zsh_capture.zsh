# Prints the matches zsh's completion offers for the line $1 (without the Tab) into the
# file $3, one "<<match>>" per line, using the completion functions in directory $2.
# An interactive zsh runs in a pseudo-terminal (zsh/zpty); compadd is wrapped to record
# what is added. Run with zsh -f.
zmodload zsh/zpty || exit 77
zpty z zsh -f -i
zpty -w z "PS1=''; fpath=($2 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd() { local -a hits; builtin compadd -A hits "$@"; builtin compadd "$@"; local h; for h in $hits; do print -r -- "<<$h>>" >>'"$3"'; done }'
zpty -w z "zstyle ':completion:*' list-prompt ''; zstyle ':completion:*' menu no; : >$3; print >$3.ready"
# zle drops keys typed ahead of its prompt: the Tab waits for the shell to be ready.
for i in {1..200}; do [[ -e $3.ready ]] && break; sleep 0.05; done
zpty -w -n z "$1"$'\t'
# Ctrl-U drops the completed line; the next command says the completion has run.
zpty -w -n z $'\x15'
zpty -w z "print done >$3.done"
for i in {1..200}; do [[ -e $3.done ]] && break; sleep 0.05; done
zpty -d z
[[ -e $3.done ]]
