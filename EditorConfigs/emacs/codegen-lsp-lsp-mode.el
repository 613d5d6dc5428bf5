;;; codegen-lsp-lsp-mode.el --- Local AI code completion with codegen-lsp through lsp-mode  -*- lexical-binding: t; -*-

;; For lsp-mode (https://emacs-lsp.github.io/lsp-mode/).  codegen-lsp is registered as an add-on server, so it
;; runs next to the language's usual server (pyright, clangd, ...).
;;
;;   (load "/path/to/codegen-lsp/EditorConfigs/emacs/codegen-lsp-lsp-mode.el")
;;   (setq codegen-lsp-initialization-options '(:model "qwen2.5-coder-0.5b"))
;;   (add-hook 'python-mode-hook #'lsp-deferred)
;;
;; Keys (in buffers where the server runs):
;;   C-M-i / C-c g c   completion-at-point (or company/corfu): the model's candidates
;;   C-c g s           ghost text (lsp-mode 9.0.1+: `lsp-inline-completion-display'; RET accepts, C-g cancels)
;;   C-c g g           generate code at point or for the region; C-u C-c g g asks for an instruction

;;; Code:

(require 'lsp-mode)

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
  '(python-mode python-ts-mode c-mode c-ts-mode c++-mode c++-ts-mode rust-mode rust-ts-mode rustic-mode go-mode
    go-ts-mode java-mode java-ts-mode js-mode js-ts-mode typescript-mode typescript-ts-mode sh-mode bash-ts-mode
    lua-mode swift-mode ruby-mode ruby-ts-mode)
  "Major modes in which lsp-mode starts codegen-lsp."
  :type '(repeat symbol))

(lsp-register-client
 (make-lsp-client
  :new-connection (lsp-stdio-connection (lambda () codegen-lsp-command))
  :activation-fn (lambda (_file-name mode) (memq mode codegen-lsp-major-modes))
  :server-id 'codegen-lsp
  :add-on? t
  :priority -1
  :initialization-options (lambda () codegen-lsp-initialization-options)))

(defun codegen-lsp-lsp-generate-code (&optional instruction)
  "Generate code at point, or replacing the active region.
With a prefix argument, ask for an INSTRUCTION.  The server inserts
the result through workspace/applyEdit."
  (interactive (list (and current-prefix-arg (read-string "Instruction: "))))
  (let ((workspace (lsp-find-workspace 'codegen-lsp (buffer-file-name)))
        (argument `(:uri ,(lsp--buffer-uri)
                    ,@(if (use-region-p)
                          `(:range ,(lsp--region-to-range (region-beginning) (region-end)))
                        `(:position ,(lsp--cur-position)))
                    ,@(when (and instruction (not (string-empty-p instruction)))
                        `(:instruction ,instruction)))))
    (unless workspace
      (user-error "codegen-lsp is not running for this buffer (M-x lsp starts it)"))
    (message "codegen-lsp: generating...")
    (with-lsp-workspace workspace
      (lsp-request-async
       "workspace/executeCommand"
       `(:command "codegen-lsp.generateCode" :arguments ,(vector argument))
       (lambda (result)
         (message (if (eq (lsp-get result :applied) t)
                      "codegen-lsp: inserted generated code"
                    "codegen-lsp: nothing was inserted")))
       :error-handler (lambda (error) (message "codegen-lsp: generate-code failed: %S" error))
       :mode 'detached))))

(defvar codegen-lsp-lsp-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "C-c g c") #'completion-at-point)
    (define-key map (kbd "C-c g g") #'codegen-lsp-lsp-generate-code)
    (when (fboundp 'lsp-inline-completion-display)
      (define-key map (kbd "C-c g s") #'lsp-inline-completion-display))
    map)
  "Keys of `codegen-lsp-lsp-mode'.")

(define-minor-mode codegen-lsp-lsp-mode
  "codegen-lsp keys in a buffer where lsp-mode runs codegen-lsp."
  :lighter " Codegen"
  :keymap codegen-lsp-lsp-mode-map)

(defun codegen-lsp--lsp-maybe-enable ()
  "Turn on `codegen-lsp-lsp-mode' when codegen-lsp serves this buffer."
  (when (lsp-find-workspace 'codegen-lsp (buffer-file-name))
    (codegen-lsp-lsp-mode 1)))

(add-hook 'lsp-after-open-hook #'codegen-lsp--lsp-maybe-enable)

(provide 'codegen-lsp-lsp-mode)
;;; codegen-lsp-lsp-mode.el ends here
