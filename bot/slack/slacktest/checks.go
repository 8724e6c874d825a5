package slacktest

import (
	"encoding/json"
	"net/url"
	"time"
	"unicode/utf8"
)

// Limits real Slack enforces on views.
const (
	triggerLife   = 3 * time.Second
	maxViewBlocks = 100
	maxTitle      = 24
	maxMetadata   = 3000
)

// Limits real Slack enforces on a message (see shared/reference).
const (
	maxBlocks        = 50
	maxSectionText   = 3000
	maxContextItems  = 10
	maxButtonValue   = 2000
	maxBlockOrAction = 255
	// maxBlocksText: chat.postMessage and chat.update answer
	// msg_blocks_too_long when the text of a message's blocks adds up to
	// roughly 11,000 to 13,000 characters (slackapi/bolt-js#2509, #2867);
	// the double refuses at the low end.
	maxBlocksText = 11000
	maxText       = 40000
)

// checkMessage validates a message's text, blocks and metadata as Slack
// would, and returns the blocks and metadata, or Slack's error code.
// postLimits adds the limits of chat.postMessage and chat.update that
// response_url posts are spared.
func checkMessage(params url.Values, postLimits bool) (blocks, metadata json.RawMessage, code string) {
	text := params.Get("text")
	if text == "" && params.Get("blocks") == "" {
		return nil, nil, "no_text"
	}
	if utf8.RuneCountInString(text) > maxText {
		return nil, nil, "msg_too_long"
	}
	if b := params.Get("blocks"); b != "" {
		if !json.Valid([]byte(b)) {
			return nil, nil, "invalid_blocks"
		}
		blocks = json.RawMessage(b)
		if code := checkBlocks(blocks, postLimits); code != "" {
			return nil, nil, code
		}
	}
	if md := params.Get("metadata"); md != "" {
		var m struct {
			EventType    string          `json:"event_type"`
			EventPayload json.RawMessage `json:"event_payload"`
		}
		if json.Unmarshal([]byte(md), &m) != nil || m.EventType == "" || len(m.EventPayload) == 0 || m.EventPayload[0] != '{' {
			return nil, nil, "invalid_metadata_format"
		}
		metadata = json.RawMessage(md)
	}
	return blocks, metadata, ""
}

// checkBlocks applies Block Kit's limits to blocks.
func checkBlocks(raw json.RawMessage, postLimits bool) string {
	var bs []struct {
		Type    string `json:"type"`
		BlockID string `json:"block_id"`
		Text    *struct {
			Text string `json:"text"`
		} `json:"text"`
		Elements []struct {
			Type     string `json:"type"`
			Text     any    `json:"text"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if json.Unmarshal(raw, &bs) != nil || len(bs) > maxBlocks {
		return "invalid_blocks"
	}
	total := 0
	for _, b := range bs {
		if len(b.BlockID) > maxBlockOrAction {
			return "invalid_blocks"
		}
		if b.Text != nil {
			n := utf8.RuneCountInString(b.Text.Text)
			if b.Type == "section" && n > maxSectionText {
				return "invalid_blocks"
			}
			total += n
		}
		if b.Type == "context" && len(b.Elements) > maxContextItems {
			return "invalid_blocks"
		}
		for _, e := range b.Elements {
			if len(e.Value) > maxButtonValue || len(e.ActionID) > maxBlockOrAction {
				return "invalid_blocks"
			}
			switch t := e.Text.(type) {
			case string:
				total += utf8.RuneCountInString(t)
			case map[string]any:
				s, _ := t["text"].(string)
				total += utf8.RuneCountInString(s)
			}
		}
	}
	if postLimits && total > maxBlocksText {
		return "msg_blocks_too_long"
	}
	return ""
}

// checkView validates a view as Slack does.
func checkView(raw, typ string) (View, string) {
	var v View
	if err := json.Unmarshal([]byte(raw), &v); err != nil || v.Type != typ {
		return v, "invalid_arguments"
	}
	var title struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(v.Title, &title)
	var blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Optional bool   `json:"optional"`
		Element  *struct {
			Type    string            `json:"type"`
			Options []json.RawMessage `json:"options"`
		} `json:"element"`
	}
	_ = json.Unmarshal(v.Blocks, &blocks)
	switch {
	case typ == "modal" && (title.Text == "" || utf8.RuneCountInString(title.Text) > maxTitle):
		return v, "invalid_arguments"
	case len(blocks) == 0 || len(blocks) > maxViewBlocks || len(v.PrivateMetadata) > maxMetadata:
		return v, "invalid_arguments"
	}
	if code := checkBlocks(v.Blocks, false); code != "" {
		return v, code
	}
	for _, b := range blocks {
		if b.Type == "input" && (b.Element == nil || b.BlockID == "") {
			return v, "invalid_arguments"
		}
		if b.Element != nil && b.Element.Type == "checkboxes" && (len(b.Element.Options) == 0 || len(b.Element.Options) > 10) {
			return v, "invalid_arguments"
		}
	}
	return v, ""
}
