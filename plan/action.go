package plan

import "fmt"

// Action is what a change does. Its value is the symbol the text plan
// shows, so one small type carries both the meaning and its display.
type Action rune

// The actions. NoOp is a control that was checked and already complies; it
// is kept in the document so the JSON shows what was checked.
const (
	NoOp   Action = 0
	Create Action = '+'
	Update Action = '~'
	Delete Action = '-'
)

// String is the action's word in the plan document.
func (a Action) String() string {
	switch a {
	case NoOp:
		return "no-op"
	case Create:
		return "create"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return fmt.Sprintf("Action(%d)", rune(a))
}

// Symbol is the one-character mark the text plan shows ("+", "~", "-"),
// and a space for NoOp.
func (a Action) Symbol() string {
	if a == NoOp {
		return " "
	}
	return string(rune(a))
}

// MarshalText writes the action's word; an unknown action is an error
// rather than a word a reader would not understand.
func (a Action) MarshalText() ([]byte, error) {
	switch a {
	case NoOp, Create, Update, Delete:
		return []byte(a.String()), nil
	}
	return nil, fmt.Errorf("unknown plan action %d", rune(a))
}

// UnmarshalText reads an action's word; anything else is an error, so a
// plan file cannot smuggle in an action apply does not know.
func (a *Action) UnmarshalText(text []byte) error {
	switch string(text) {
	case "no-op":
		*a = NoOp
	case "create":
		*a = Create
	case "update":
		*a = Update
	case "delete":
		*a = Delete
	default:
		return fmt.Errorf("unknown plan action %q (want create, update, delete or no-op)", text)
	}
	return nil
}
