;;; codegen-lsp-eglot.el --- Local AI code completion with codegen-lsp through Eglot  -*- lexical-binding: t; -*-

;; Works with Emacs 29+ (Eglot is built in) and Emacs 28 with Eglot from GNU ELPA (`M-x package-install RET
;; eglot') or Debian/Ubuntu's `elpa-eglot' package.
;;
;; Load it from your init file:
;;   (load "/path/to/codegen-lsp/EditorConfigs/emacs/codegen-lsp-eglot.el")
;;   (setq codegen-lsp-initialization-options '(:model "qwen2.5-coder-0.5b"))
;;   (add-hook 'python-mode-hook #'eglot-ensure)        ; or M-x eglot in a buffer
;;
;; It registers `codegen-lsp lsp' as the Eglot server of `codegen-lsp-major-modes' and, in buffers managed by
;; it, turns on `codegen-lsp-mode':
;;   C-M-i / C-c g c   completion-at-point (textDocument/completion: the model's candidates)
;;   C-c g s           ghost text now (textDocument/inlineCompletion); TAB accepts it, C-g dismisses it
;;   C-c g g           generate code at point or for the region (workspace/executeCommand
;;                     codegen-lsp.generateCode; the server inserts the result with workspace/applyEdit)
;;   C-u C-c g g       the same, asking for an instruction first
;; Eglot runs one server per buffer: codegen-lsp replaces the language's usual server in these modes. Use
;; lsp-mode (codegen-lsp-lsp-mode.el) to run it next to another server.

;;; Code:

(require 'cl-lib)
(require 'eglot)
(require 'jsonrpc)
(require 'seq)

(defgroup codegen-lsp nil
  "Local AI code completion with codegen-lsp."
  :group 'tools
  :prefix "codegen-lsp-")

(defcustom codegen-lsp-command '("codegen-lsp" "lsp")
  "Program and arguments that start the server.
Add \"--log-level\" \"debug\" to debug."
  :type '(repeat string))

(defcustom codegen-lsp-initialization-options '(:model "qwen2.5-coder-0.5b")
  "Plist sent as LSP `initializationOptions'.
Its keys are those of Protocol/configuration.schema.json, flat."
  :type 'plist)

(defcustom codegen-lsp-major-modes
  '(python-mode python-ts-mode c-mode c-ts-mode c++-mode c++-ts-mode rust-mode rust-ts-mode go-mode go-ts-mode
    java-mode java-ts-mode js-mode js-ts-mode typescript-mode typescript-ts-mode sh-mode bash-ts-mode
    lua-mode swift-mode ruby-mode ruby-ts-mode)
  "Major modes whose buffers Eglot connects to codegen-lsp."
  :type '(repeat symbol))

(defcustom codegen-lsp-request-timeout 300
  "Seconds to wait for a completion or a generate-code answer."
  :type 'integer)

(defcustom codegen-lsp-auto-ghost-text t
  "When non-nil, ask for ghost text while typing.
The request goes out after `codegen-lsp-ghost-text-delay' idle seconds."
  :type 'boolean)

(defcustom codegen-lsp-ghost-text-delay 0.4
  "Idle seconds after typing before ghost text is requested."
  :type 'number)

(defface codegen-lsp-ghost-text '((t :inherit shadow))
  "Face of the ghost text.")

(defconst codegen-lsp--command-name "codegen-lsp.generateCode")

(defun codegen-lsp--contact (&optional _interactive _project)
  "The Eglot contact: the command line and the initialization options.
Eglot passes INTERACTIVE and, from 1.15, PROJECT."
  (append codegen-lsp-command (list :initializationOptions codegen-lsp-initialization-options)))

;;;###autoload
(defun codegen-lsp-eglot-register ()
  "Make Eglot use codegen-lsp for `codegen-lsp-major-modes'."
  (add-to-list 'eglot-server-programs (cons codegen-lsp-major-modes #'codegen-lsp--contact)))

(defun codegen-lsp--server ()
  "The codegen-lsp server of this buffer, or a user error."
  (let ((server (eglot-current-server)))
    (unless (and server (codegen-lsp--server-p server))
      (user-error "codegen-lsp is not running for this buffer (M-x eglot starts it)"))
    server))

(defun codegen-lsp--server-p (server)
  "Non-nil when SERVER is codegen-lsp (it offers the generate-code command)."
  (let ((commands (plist-get (plist-get (eglot--capabilities server) :executeCommandProvider) :commands)))
    (and commands (seq-contains-p commands codegen-lsp--command-name))))

;;; Generate code

;;;###autoload
(defun codegen-lsp-generate-code (&optional instruction)
  "Generate code at point, or replacing the active region.
With a prefix argument, ask for an INSTRUCTION.  The server streams
progress and inserts the result through workspace/applyEdit; the
command's answer (a plist with :applied and :text) is returned."
  (interactive (list (and current-prefix-arg (read-string "Instruction: "))))
  (let* ((server (codegen-lsp--server))
         (argument
          `(:uri ,(plist-get (eglot--TextDocumentIdentifier) :uri)
            ,@(if (use-region-p)
                  `(:range (:start ,(eglot--pos-to-lsp-position (region-beginning))
                            :end ,(eglot--pos-to-lsp-position (region-end))))
                `(:position ,(eglot--pos-to-lsp-position)))
            ,@(when (and instruction (not (string-empty-p instruction)))
                `(:instruction ,instruction))))
         ;; The user asked for this edit: apply it without a confirmation prompt.
         (eglot-confirm-server-initiated-edits nil)
         result)
    (eglot--signal-textDocument/didChange)
    (message "codegen-lsp: generating...")
    (setq result (jsonrpc-request server :workspace/executeCommand
                                  `(:command ,codegen-lsp--command-name :arguments ,(vector argument))
                                  :timeout codegen-lsp-request-timeout))
    (message (if (eq (plist-get result :applied) t)
                 "codegen-lsp: inserted generated code"
               "codegen-lsp: nothing was inserted"))
    result))

;;; Ghost text (textDocument/inlineCompletion)

(defvar-local codegen-lsp--ghost nil
  "The shown ghost text, or nil.
A plist (:overlay OV :item ITEM :point P :tick TICK).")

(defvar-local codegen-lsp--ghost-active nil
  "Non-nil while ghost text is shown; enables `codegen-lsp-ghost-map'.")

(defvar codegen-lsp-ghost-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "TAB") #'codegen-lsp-inline-accept)
    (define-key map (kbd "<tab>") #'codegen-lsp-inline-accept)
    (define-key map (kbd "C-g") #'codegen-lsp-inline-dismiss)
    map)
  "Keys active while ghost text is shown.")

(add-to-list 'minor-mode-map-alist (cons 'codegen-lsp--ghost-active codegen-lsp-ghost-map))

(defun codegen-lsp--item-text (item)
  "The text of an InlineCompletionItem (a string, or a snippet StringValue)."
  (let ((text (plist-get item :insertText)))
    (if (stringp text) text (or (plist-get text :value) ""))))

(defun codegen-lsp-inline-dismiss ()
  "Remove the ghost text."
  (interactive)
  (when codegen-lsp--ghost
    (delete-overlay (plist-get codegen-lsp--ghost :overlay)))
  (setq codegen-lsp--ghost nil
        codegen-lsp--ghost-active nil))

(defun codegen-lsp-ghost-text-visible-p ()
  "Non-nil while ghost text is shown in this buffer."
  (and codegen-lsp--ghost t))

(defun codegen-lsp--show (item)
  "Show ITEM as ghost text at point."
  (codegen-lsp-inline-dismiss)
  (let* ((text (codegen-lsp--item-text item))
         (range (plist-get item :range))
         (start (if range (eglot--lsp-position-to-point (plist-get range :start)) (point)))
         (typed (buffer-substring-no-properties (min start (point)) (point))))
    (when (string-prefix-p typed text)
      (setq text (substring text (length typed))))
    (unless (string-empty-p text)
      (let ((overlay (make-overlay (point) (point) nil nil nil))
            (shown (propertize text 'face 'codegen-lsp-ghost-text)))
        (put-text-property 0 1 'cursor t shown)
        (overlay-put overlay 'after-string shown)
        (overlay-put overlay 'codegen-lsp t)
        (setq codegen-lsp--ghost (list :overlay overlay :item item :point (point)
                                       :tick (buffer-chars-modified-tick))
              codegen-lsp--ghost-active t)))))

(defun codegen-lsp--inline-params (invoked)
  "InlineCompletionParams at point; INVOKED non-nil when the user asked."
  (append (eglot--TextDocumentPositionParams) `(:context (:triggerKind ,(if invoked 1 2)))))

(defun codegen-lsp--items (response)
  "The items of an inline completion RESPONSE (a list or an array)."
  (append (if (vectorp response) response (plist-get response :items)) nil))

;;;###autoload
(defun codegen-lsp-inline-complete ()
  "Ask codegen-lsp for ghost text at point and show its first item.
Return that item."
  (interactive)
  (let ((server (codegen-lsp--server)))
    (codegen-lsp-inline-dismiss)
    (eglot--signal-textDocument/didChange)
    (let ((item (car (codegen-lsp--items
                      (jsonrpc-request server :textDocument/inlineCompletion (codegen-lsp--inline-params t)
                                       :timeout codegen-lsp-request-timeout)))))
      (if item
          (codegen-lsp--show item)
        (when (called-interactively-p 'interactive)
          (message "codegen-lsp: no suggestion here")))
      item)))

(defun codegen-lsp-inline-accept ()
  "Insert the ghost text; return non-nil when something was inserted."
  (interactive)
  (let ((ghost codegen-lsp--ghost))
    (codegen-lsp-inline-dismiss)
    (when (and ghost (= (point) (plist-get ghost :point))
               (= (buffer-chars-modified-tick) (plist-get ghost :tick)))
      (let* ((item (plist-get ghost :item))
             (text (codegen-lsp--item-text item))
             (range (plist-get item :range))
             (start (if range (eglot--lsp-position-to-point (plist-get range :start)) (point)))
             (end (if range (eglot--lsp-position-to-point (plist-get range :end)) (point))))
        (goto-char start)
        (delete-region start end)
        (insert text)
        (when-let ((command (plist-get item :command)))
          (jsonrpc-async-request (codegen-lsp--server) :workspace/executeCommand command
                                 :success-fn #'ignore))
        t))))

(defvar-local codegen-lsp--timer nil)

(defun codegen-lsp--auto-request (buffer)
  "Ask for ghost text in BUFFER without blocking, if nothing changed meanwhile."
  (when (and (buffer-live-p buffer) (eq buffer (current-buffer)) (not codegen-lsp--ghost))
    (let ((server (eglot-current-server))
          (point (point))
          (tick (buffer-chars-modified-tick)))
      (when (and server (codegen-lsp--server-p server))
        (eglot--signal-textDocument/didChange)
        (jsonrpc-async-request
         server :textDocument/inlineCompletion (codegen-lsp--inline-params nil)
         :success-fn (lambda (response)
                       (when (buffer-live-p buffer)
                         (with-current-buffer buffer
                           (let ((item (car (codegen-lsp--items response))))
                             (when (and item (= point (point)) (= tick (buffer-chars-modified-tick)))
                               (codegen-lsp--show item))))))
         :error-fn #'ignore
         :timeout codegen-lsp-request-timeout)))))

(defun codegen-lsp--post-command ()
  "Dismiss stale ghost text; after typing, schedule a new request."
  (when (and codegen-lsp--ghost
             (not (memq this-command '(codegen-lsp-inline-complete codegen-lsp-inline-accept)))
             (or (/= (point) (plist-get codegen-lsp--ghost :point))
                 (/= (buffer-chars-modified-tick) (plist-get codegen-lsp--ghost :tick))))
    (codegen-lsp-inline-dismiss))
  (when (and codegen-lsp-auto-ghost-text
             (memq this-command '(self-insert-command newline delete-backward-char backward-delete-char-untabify)))
    (when (timerp codegen-lsp--timer)
      (cancel-timer codegen-lsp--timer))
    (setq codegen-lsp--timer
          (run-with-idle-timer codegen-lsp-ghost-text-delay nil #'codegen-lsp--auto-request (current-buffer)))))

;;; Minor mode

(defvar codegen-lsp-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "C-c g c") #'completion-at-point)
    (define-key map (kbd "C-c g s") #'codegen-lsp-inline-complete)
    (define-key map (kbd "C-c g g") #'codegen-lsp-generate-code)
    map)
  "Keys of `codegen-lsp-mode'.")

;;;###autoload
(define-minor-mode codegen-lsp-mode
  "codegen-lsp keys and ghost text in a buffer managed by Eglot with codegen-lsp."
  :lighter " Codegen"
  :keymap codegen-lsp-mode-map
  (if codegen-lsp-mode
      (add-hook 'post-command-hook #'codegen-lsp--post-command nil t)
    (remove-hook 'post-command-hook #'codegen-lsp--post-command t)
    (codegen-lsp-inline-dismiss)))

(defun codegen-lsp--maybe-enable ()
  "Turn `codegen-lsp-mode' on where Eglot runs codegen-lsp, off elsewhere."
  (let ((server (and (bound-and-true-p eglot--managed-mode) (eglot-current-server))))
    (codegen-lsp-mode (if (and server (codegen-lsp--server-p server)) 1 -1))))

(add-hook 'eglot-managed-mode-hook #'codegen-lsp--maybe-enable)
(codegen-lsp-eglot-register)

(provide 'codegen-lsp-eglot)
;;; codegen-lsp-eglot.el ends here
